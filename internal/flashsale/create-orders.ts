import { AppError } from '../errorx/index.js';
import type { AddressSnapshot } from '../model/index.js';
import {
  afterOrdersCreated,
  commitWithEvent,
  findSkus,
  insertOrders,
  MAX_ORDERS_PER_BATCH_MESSAGE,
  type NewOrder,
  newOrderRows,
  orderCreatedBatch,
  validateAddress,
} from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { parseTicketBatch, type QueuedTicket } from './messages.js';
import { getSale, insertTickets, type SaleRow, sellUnits, type TicketRow, ticketsByIds } from './repository.js';
import { settleInRedis } from './settle.js';

export interface BatchResult {
  ordered: number;
  failed: number;
  /** Tickets of this batch the DB already had (a redelivered or re-sent batch). */
  duplicates: number;
}

/**
 * The consumer of flashsale_ticket: creates one batch's orders in one DB transaction (multi-row inserts;
 * PENDING_PAYMENT, source FLASHSALE, the sale's price) with one `order.created.batch` transaction message
 * carrying every order's `order.created` event (or one message per order: flashSale.orderCreatedEvents);
 * a batch of more than MAX_ORDERS_PER_BATCH_MESSAGE orders in one such transaction per that many,
 * and records every ticket ORDERED or FAILED. Idempotent by ticket id: a ticket the DB already has is
 * skipped. A ticket whose order cannot be made is FAILED with a reason and its units go back to the sale.
 */
export async function createFlashSaleOrders(ctx: ServiceContext, data: unknown): Promise<BatchResult> {
  const batch = parseTicketBatch(data);
  const saleId = BigInt(batch.saleId);
  const sale = await getSale(ctx.db, saleId);
  if (!sale) throw new AppError('FLASH_SALE_NOT_FOUND', `flash sale ${saleId} not found`);

  const seen = await ticketsByIds(
    ctx.db,
    batch.tickets.map((t) => BigInt(t.seq)),
  );
  const seenIds = new Set(seen.map((r) => r.id));
  const fresh = uniqueBySeq(batch.tickets).filter((t) => !seenIds.has(BigInt(t.seq)));
  const [sku] = await findSkus(ctx.db, [sale.skuId]);

  const now = new Date();
  const made: Array<{ ticket: QueuedTicket; order: NewOrder }> = [];
  const failed: TicketRow[] = [];
  for (const t of fresh) {
    const reason = whyNot(t, sku?.status);
    if (reason) {
      failed.push(ticketRow(saleId, t, 'FAILED', null, reason, now));
      continue;
    }
    const order = newOrderRows(ctx, {
      userId: BigInt(t.userId),
      lines: [
        {
          skuId: sale.skuId,
          title: sale.title,
          unitPrice: sale.price,
          quantity: t.quantity,
          lineTotal: sale.price * t.quantity,
        },
      ],
      itemsAmount: sale.price * t.quantity,
      currency: sku!.currency,
      address: t.address as unknown as AddressSnapshot,
      source: 'FLASHSALE',
      actor: { type: 'SYSTEM', id: 'flashsale' },
      now,
    });
    made.push({ ticket: t, order });
  }
  // A message's tickets are written in parts of at most MAX_ORDERS_PER_BATCH_MESSAGE orders, each one DB
  // transaction with its own order.created.batch message (the broker refuses larger ones); the FAILED
  // tickets go with the first. A retry after a part failed skips the parts already committed (above).
  const ordered: TicketRow[] = [];
  for (let i = 0; i === 0 || i < made.length; i += MAX_ORDERS_PER_BATCH_MESSAGE) {
    const part = made.slice(i, i + MAX_ORDERS_PER_BATCH_MESSAGE);
    const rows = part.map((m) => ticketRow(saleId, m.ticket, 'ORDERED', m.order.order.id, null, now));
    await writePart(ctx, sale, part, [...rows, ...(i === 0 ? failed : [])]);
    ordered.push(...rows);
  }
  await settleInRedis(ctx, saleId, [...seen, ...ordered, ...failed]);
  return { ordered: made.length, failed: failed.length, duplicates: seen.length };
}

/**
 * One DB transaction: the part's orders (with their order.created events, see createFlashSaleOrders)
 * and its ticket rows; only ticket rows when the part has no orders.
 */
async function writePart(
  ctx: ServiceContext,
  sale: SaleRow,
  made: Array<{ ticket: QueuedTicket; order: NewOrder }>,
  tickets: TicketRow[],
) {
  if (made.length === 0) {
    if (tickets.length > 0) await insertTickets(ctx.db, tickets);
    return;
  }
  const units = made.reduce((n, m) => n + m.ticket.quantity, 0);
  const events = made.map((m) => m.order.message);
  await commitWithEvent(
    ctx,
    ctx.config.flashSale.orderCreatedEvents === 'batch' ? orderCreatedBatch(events, `flashsale:${sale.id}`) : events,
    async (tx) => {
      await insertOrders(
        tx,
        made.map((m) => m.order),
      );
      await insertTickets(tx, tickets);
    },
    undefined,
    // The sale and SKU rows are every batch's hot rows: locked last, after the tx-log rows, so each
    // batch holds them only for its commit and batches of one sale do not queue behind each other.
    async (tx) => {
      if (!(await sellUnits(tx, sale, units))) {
        // Redis admitted more than the sale holds: refuse the batch rather than oversell (transient:
        // an operator reconciles the sale, then the batch is retried or replayed).
        throw new AppError('CONCURRENT_MODIFICATION', `flash sale ${sale.id} has fewer unsold units than this batch`);
      }
    },
  );
  await afterOrdersCreated(
    ctx,
    made.map((m) => m.order.order),
  );
}

function whyNot(t: QueuedTicket, skuStatus: string | undefined): string | undefined {
  if (skuStatus !== 'ON_SALE') return 'the product is no longer on sale';
  try {
    validateAddress(t.address as unknown as AddressSnapshot);
  } catch (err) {
    return (err as Error).message.slice(0, 200);
  }
  return undefined;
}

function uniqueBySeq(tickets: QueuedTicket[]): QueuedTicket[] {
  const m = new Map(tickets.map((t) => [t.seq, t]));
  return [...m.values()];
}

function ticketRow(
  saleId: bigint,
  t: QueuedTicket,
  status: 'ORDERED' | 'FAILED',
  orderId: bigint | null,
  failureReason: string | null,
  now: Date,
): TicketRow {
  return {
    id: BigInt(t.seq),
    saleId,
    userId: BigInt(t.userId),
    quantity: t.quantity,
    status,
    orderId,
    failureReason,
    createdAt: now,
    updatedAt: now,
  };
}
