import { AppError, rejectInvalidText } from '../errorx/index.js';
import {
  type Actor,
  getItems,
  getOrder,
  invalidateOrderLists,
  type OrderItemRow,
  type OrderRow,
  type Seal,
  setOrderHidden,
  type Tx,
} from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type Held, type Quote, quote } from './allocation.js';
import { afterSaleEnvelope } from './events.js';
import { parcelUnits, readFulfilment } from './fulfilment.js';
import {
  type AfterSaleLineRow,
  type AfterSaleRow,
  insertAfterSale,
  insertAfterSaleLog,
  liveOfOrder,
} from './repository.js';
import {
  type AfterSaleGoods,
  type AfterSaleKind,
  type AfterSaleStatus,
  isAfterSaleKind,
  OPEN_STATUSES,
} from './rules.js';
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
  /** An operator's loss report opens the request for this parcel's units (internal/delivery). */
  lostShipmentId?: bigint;
  /** Who asks: the buyer (USER, the default) or the operator reporting a loss. */
  actor?: Actor;
}

/**
 * Orders an after-sale may be opened on, for goods the buyer has: delivered (or completed), within the
 * window after delivery. Before anything ships (PAID) and while parcels are still to go
 * (PARTIALLY_SHIPPED), units not shipped can be refunded (REFUND_ONLY); a lost parcel's units any time
 * after it left.
 */
export const AFTER_SALE_ORDER_STATUSES = ['DELIVERED', 'COMPLETED'] as const;
export const UNSHIPPED_REFUND_STATUSES = ['PAID', 'PARTIALLY_SHIPPED'] as const;
export const LOST_PARCEL_STATUSES = ['PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'COMPLETED'] as const;
/** Every order status in which an after-sale's refund may still be paid out. */
export const REFUNDABLE_ORDER_STATUSES: readonly string[] = [...UNSHIPPED_REFUND_STATUSES, ...LOST_PARCEL_STATUSES];
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
      goods: planned.goods,
      shipmentId: input.lostShipmentId ?? null,
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
    let unhidden = false;
    const result = await commitOnOrder(
      ctx,
      input.orderId,
      [afterSaleEnvelope(row, lines, 'REQUESTED', null, 0, row.reason)],
      async (tx): Promise<AfterSaleResult> => {
        const again = await plan(ctx, tx, input, want);
        if (
          again.goods !== planned.goods ||
          JSON.stringify(again.quote, jsonBigint) !== JSON.stringify(planned.quote, jsonBigint)
        ) {
          throw new AppError('CONCURRENT_MODIFICATION', 'the order changed while this request ran; retry');
        }
        await insertAfterSale(tx, row, lines);
        // An order the buyer hid (finished) is not finished while an after-sale runs: shown again.
        unhidden = await setOrderHidden(tx, input.orderId, input.userId, false);
        await insertAfterSaleLog(tx, [
          {
            id: ctx.ids.next(),
            afterSaleId: id,
            fromStatus: null,
            toStatus: 'REQUESTED',
            version: 0,
            actorType: input.actor?.type ?? 'USER',
            actorId: input.actor?.id ?? input.userId.toString(),
            reason: row.reason,
          },
        ]);
        return { afterSale: row, lines, changed: true };
      },
      input.seal,
    );
    if (unhidden) await invalidateOrderLists(ctx, [input.userId]);
    return result;
  });
}

/** What the units would refund now, without asking for anything (the buyer's preview). */
export async function previewAfterSale(
  ctx: ServiceContext,
  input: { orderId: bigint; userId?: bigint; lines: Array<{ orderItemId: bigint; quantity: number }>; now?: Date },
): Promise<Quote> {
  const want = wantOf(input.lines);
  return (await plan(ctx, ctx.db, { ...input, userId: input.userId, kind: 'REFUND_ONLY' }, want)).quote;
}

async function plan(
  ctx: ServiceContext,
  tx: Tx,
  input: {
    orderId: bigint;
    userId?: bigint;
    kind: string;
    lines: Array<{ orderItemId: bigint }>;
    now?: Date;
    lostShipmentId?: bigint;
  },
  want: Map<bigint, number>,
): Promise<{ order: OrderRow; items: OrderItemRow[]; quote: Quote; goods: AfterSaleGoods }> {
  const order = await getOrder(tx, input.orderId);
  if (!order || (input.userId !== undefined && order.userId !== input.userId)) {
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  }
  const items = await getItems(tx, order.id);
  const goods = await whereGoodsAre(ctx, tx, order, items, input, want);
  const { live, lines } = await liveOfOrder(tx, order.id);
  // At most one open request per line, the buyer's. A lost parcel's refund is the operator's, for units no
  // buyer request can hold (they shipped and never arrived): it neither waits for the buyer's open
  // requests nor makes them wait. Its units are held like any other's below.
  const open = new Set(
    live.filter((a) => OPEN_STATUSES.includes(a.status as AfterSaleStatus) && a.goods !== 'LOST').map((a) => a.id),
  );
  for (const l of lines) {
    if (input.lostShipmentId === undefined && open.has(l.afterSaleId) && want.has(l.orderItemId)) {
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
    return { order, items, quote: q, goods };
  } catch (err) {
    if (err instanceof RangeError) throw new AppError('AFTER_SALE_UNITS_TAKEN', err.message);
    throw err;
  }
}

/**
 * Which goods the request is for, and whether they may be asked for now: a lost parcel's units (an
 * operator's report), units not shipped yet (refund only, PAID or PARTIALLY_SHIPPED, at most what is left
 * to ship), or delivered goods within the window after delivery.
 */
async function whereGoodsAre(
  ctx: ServiceContext,
  tx: Tx,
  order: OrderRow,
  items: OrderItemRow[],
  input: { kind: string; now?: Date; lostShipmentId?: bigint },
  want: Map<bigint, number>,
): Promise<AfterSaleGoods> {
  const status = order.status;
  const conflict = (message: string) => new AppError('ORDER_STATE_CONFLICT', message, { currentStatus: status });
  if (input.lostShipmentId !== undefined) {
    if (!(LOST_PARCEL_STATUSES as readonly string[]).includes(status)) {
      throw conflict(`a lost parcel's refund needs a shipped order; this one is ${status}`);
    }
    const parcel = new Map(
      (await parcelUnits(tx, input.lostShipmentId)).map((l) => [BigInt(l.orderItemId), l.quantity]),
    );
    for (const [line, n] of want) {
      if (n > (parcel.get(line) ?? 0)) {
        throw new AppError('VALIDATION_FAILED', `line ${line}: the parcel carries ${parcel.get(line) ?? 0} of it`);
      }
    }
    return 'LOST';
  }
  if ((UNSHIPPED_REFUND_STATUSES as readonly string[]).includes(status)) {
    if (input.kind !== 'REFUND_ONLY') {
      throw conflict(`goods not shipped yet can only be refunded (REFUND_ONLY); this order is ${status}`);
    }
    const left = new Map((await readFulfilment(tx, order.id, items)).map((l) => [l.orderItemId, l.leftToShip]));
    for (const [line, n] of want) {
      if (left.has(line) && n > left.get(line)!) {
        throw new AppError(
          'AFTER_SALE_UNITS_TAKEN',
          `line ${line} has ${left.get(line)} unit(s) not shipped; shipped ones can be asked for after delivery`,
        );
      }
    }
    return 'UNSHIPPED';
  }
  if (!(AFTER_SALE_ORDER_STATUSES as readonly string[]).includes(status)) {
    throw conflict(
      status === 'SHIPPED'
        ? 'the order is on its way: ask after delivery (support reports a lost parcel)'
        : `an after-sale needs a paid order; this one is ${status}`,
    );
  }
  const days = ctx.config.order.refundWindowDays;
  const since = order.deliveredAt ?? order.completedAt;
  if (!since || (input.now ?? new Date()).getTime() - since.getTime() > days * 86_400_000) {
    throw new AppError('REFUND_WINDOW_CLOSED', `after-sales are accepted within ${days} days of delivery`);
  }
  return 'DELIVERED';
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
