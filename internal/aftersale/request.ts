import { AppError, rejectInvalidText } from '../errorx/index.js';
import { getItems, getOrder, type OrderItemRow, type OrderRow, type Seal, type Tx } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type Held, type Quote, quote } from './allocation.js';
import { afterSaleEnvelope } from './events.js';
import {
  type AfterSaleLineRow,
  type AfterSaleRow,
  insertAfterSale,
  insertAfterSaleLog,
  liveOfOrder,
} from './repository.js';
import { type AfterSaleKind, type AfterSaleStatus, isAfterSaleKind, OPEN_STATUSES } from './rules.js';
import { type AfterSaleResult, commitOnOrder, retryingLostRaces } from './transition.js';

export interface RequestAfterSaleInput {
  orderId: bigint;
  userId: bigint;
  kind: string;
  reason: string;
  evidence?: string[];
  lines: Array<{ orderItemId: bigint; quantity: number }>;
  now?: Date;
  seal?: Seal<AfterSaleResult>;
}

/** Orders an after-sale may be opened on: delivered (or completed), within the window after delivery. */
export const AFTER_SALE_ORDER_STATUSES = ['DELIVERED', 'COMPLETED'] as const;
export const MAX_EVIDENCE = 9;

/**
 * A buyer asks for money back for some units of some lines of a delivered order: refund only, or return
 * and refund. What it refunds is fixed now (allocation.ts) and shown before anyone approves. A line can
 * have one open request at a time, and no request takes more units than were bought and are not yet held
 * by another live request; both are checked with the order row locked, so two requests at once cannot
 * take the same units.
 */
export async function requestAfterSale(ctx: ServiceContext, input: RequestAfterSaleInput): Promise<AfterSaleResult> {
  const want = validate(input);
  const kind = input.kind as AfterSaleKind;
  return retryingLostRaces(async () => {
    // The event carries the amounts, and the half message goes out before the transaction: quote from a
    // plain read, then quote again under the lock and start over when anything moved in between.
    const planned = await plan(ctx, ctx.db, input, want);
    const id = ctx.ids.next();
    const row: AfterSaleRow = {
      id,
      orderId: input.orderId,
      userId: input.userId,
      kind,
      status: 'REQUESTED',
      reason: input.reason.trim(),
      evidence: input.evidence ?? [],
      itemsAmount: planned.quote.itemsAmount,
      shippingAmount: planned.quote.shippingAmount,
      refundId: null,
      returnCarrier: null,
      returnTrackingNo: null,
      reviewNote: '',
      version: 0,
      createdAt: new Date(),
      updatedAt: new Date(),
    };
    const lines: AfterSaleLineRow[] = planned.quote.lines.map((l) => ({
      afterSaleId: id,
      orderId: input.orderId,
      ...l,
    }));
    return commitOnOrder(
      ctx,
      input.orderId,
      [afterSaleEnvelope(row, lines, 'REQUESTED', null, 0, row.reason)],
      async (tx): Promise<AfterSaleResult> => {
        const again = await plan(ctx, tx, input, want);
        if (JSON.stringify(again.quote, jsonBigint) !== JSON.stringify(planned.quote, jsonBigint)) {
          throw new AppError('CONCURRENT_MODIFICATION', 'the order changed while this request ran; retry');
        }
        await insertAfterSale(tx, row, lines);
        await insertAfterSaleLog(tx, [
          {
            id: ctx.ids.next(),
            afterSaleId: id,
            fromStatus: null,
            toStatus: 'REQUESTED',
            version: 0,
            actorType: 'USER',
            actorId: input.userId.toString(),
            reason: row.reason,
          },
        ]);
        return { afterSale: row, lines, changed: true };
      },
      input.seal,
    );
  });
}

/** What the units would refund now, without asking for anything (the buyer's preview). */
export async function previewAfterSale(
  ctx: ServiceContext,
  input: { orderId: bigint; userId?: bigint; lines: Array<{ orderItemId: bigint; quantity: number }>; now?: Date },
): Promise<Quote> {
  const want = wantOf(input.lines);
  return (await plan(ctx, ctx.db, { ...input, userId: input.userId }, want)).quote;
}

async function plan(
  ctx: ServiceContext,
  tx: Tx,
  input: { orderId: bigint; userId?: bigint; lines: Array<{ orderItemId: bigint }>; now?: Date },
  want: Map<bigint, number>,
): Promise<{ order: OrderRow; items: OrderItemRow[]; quote: Quote }> {
  const order = await getOrder(tx, input.orderId);
  if (!order || (input.userId !== undefined && order.userId !== input.userId)) {
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  }
  if (!(AFTER_SALE_ORDER_STATUSES as readonly string[]).includes(order.status)) {
    throw new AppError(
      'ORDER_STATE_CONFLICT',
      `an after-sale needs a delivered order; this one is ${order.status}` +
        (order.status === 'PAID' ? ' (cancel it with POST /v1/orders/{id}/refunds instead)' : ''),
      { currentStatus: order.status },
    );
  }
  const days = ctx.config.order.refundWindowDays;
  const since = order.deliveredAt ?? order.completedAt;
  if (!since || (input.now ?? new Date()).getTime() - since.getTime() > days * 86_400_000) {
    throw new AppError('REFUND_WINDOW_CLOSED', `after-sales are accepted within ${days} days of delivery`);
  }
  const items = await getItems(tx, order.id);
  const { live, lines } = await liveOfOrder(tx, order.id);
  const open = new Set(live.filter((a) => OPEN_STATUSES.includes(a.status as AfterSaleStatus)).map((a) => a.id));
  for (const l of lines) {
    if (open.has(l.afterSaleId) && want.has(l.orderItemId)) {
      throw new AppError(
        'AFTER_SALE_UNITS_TAKEN',
        `line ${l.orderItemId} has an open after-sale (${l.afterSaleId}); wait for it to finish or withdraw it`,
      );
    }
  }
  const held: Held = { lines: new Map(), shipping: live.reduce((n, a) => n + a.shippingAmount, 0) };
  for (const l of lines) {
    const h = held.lines.get(l.orderItemId) ?? { units: 0, amount: 0 };
    held.lines.set(l.orderItemId, { units: h.units + l.quantity, amount: h.amount + l.amount });
  }
  try {
    const q = quote(
      order,
      items.map((i) => ({ id: i.id, quantity: i.quantity, lineTotal: i.lineTotal })),
      held,
      want,
    );
    const liveTotal = live.reduce((n, a) => n + a.itemsAmount + a.shippingAmount, 0);
    if (liveTotal + q.total > order.paidAmount) {
      throw new Error(
        `after-sale allocation broken: order ${order.id} would refund ${liveTotal + q.total} of ${order.paidAmount}`,
      );
    }
    return { order, items, quote: q };
  } catch (err) {
    if (err instanceof RangeError) throw new AppError('AFTER_SALE_UNITS_TAKEN', err.message);
    throw err;
  }
}

function validate(input: RequestAfterSaleInput): Map<bigint, number> {
  if (!isAfterSaleKind(input.kind)) {
    throw new AppError('VALIDATION_FAILED', 'kind must be REFUND_ONLY or RETURN_AND_REFUND');
  }
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 200)
    throw new AppError('VALIDATION_FAILED', 'reason is 1 to 200 characters');
  rejectInvalidText(reason, 'reason');
  const evidence = input.evidence ?? [];
  if (evidence.length > MAX_EVIDENCE) throw new AppError('VALIDATION_FAILED', `at most ${MAX_EVIDENCE} evidence URLs`);
  for (const url of evidence) {
    if (url.length > 500 || !/^https?:\/\/[^\s]+$/.test(url)) {
      throw new AppError('VALIDATION_FAILED', 'each evidence entry is an http(s) URL of at most 500 characters');
    }
  }
  return wantOf(input.lines);
}

function wantOf(lines: Array<{ orderItemId: bigint; quantity: number }>): Map<bigint, number> {
  if (lines.length === 0 || lines.length > 100) throw new AppError('VALIDATION_FAILED', 'lines: 1 to 100 order lines');
  const want = new Map<bigint, number>();
  for (const l of lines) {
    if (!Number.isSafeInteger(l.quantity) || l.quantity < 1) {
      throw new AppError('VALIDATION_FAILED', 'each line needs a quantity of at least 1');
    }
    if (want.has(l.orderItemId)) throw new AppError('VALIDATION_FAILED', `line ${l.orderItemId} is named twice`);
    want.set(l.orderItemId, l.quantity);
  }
  return want;
}

const jsonBigint = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
