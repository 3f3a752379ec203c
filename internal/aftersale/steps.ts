import { AppError, rejectInvalidText } from '../errorx/index.js';
import { type Actor, getItems, type OrderRow, restockSold, type Seal, type Tx } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import type { AfterSaleLineRow, AfterSaleRow } from './repository.js';
import { REFUNDABLE_ORDER_STATUSES } from './request.js';
import { afterReturnApproved } from './return-deadline.js';
import { type AfterSaleResult, transitionAfterSale } from './transition.js';

/** Writes the refund of an after-sale in the step's transaction (internal/payment) and returns its id. */
export type RecordRefund = (tx: Tx, a: AfterSaleRow, amount: number) => Promise<bigint>;

/** The order must still be one whose money can go back by after-sale (not refunded whole meanwhile). */
function refundableOrder(_a: AfterSaleRow, order: OrderRow) {
  if (!REFUNDABLE_ORDER_STATUSES.includes(order.status)) {
    throw new AppError('ORDER_STATE_CONFLICT', `the order is ${order.status}; its after-sales cannot refund`, {
      currentStatus: order.status,
    });
  }
}

function note(text: string | undefined, what: string): string {
  const t = (text ?? '').trim();
  if (t.length > 200) throw new AppError('VALIDATION_FAILED', `${what} is at most 200 characters`);
  rejectInvalidText(t, what);
  return t;
}

/**
 * The merchant approves. A refund-only request starts its refund in the same transaction (APPROVED ->
 * REFUNDING), and units that never shipped go back to stock then, once; a return waits for the goods
 * (APPROVED, then the buyer ships them back within order.returnShipDays: its deadline is scheduled).
 */
export async function approveAfterSale(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; actor: Actor; note?: string; recordRefund: RecordRefund; seal?: Seal<AfterSaleResult> },
): Promise<AfterSaleResult> {
  const reviewNote = note(input.note, 'note');
  const res = await transitionAfterSale(ctx, {
    afterSaleId: input.afterSaleId,
    events: (a) => (a.kind === 'REFUND_ONLY' ? ['approve', 'start_refund'] : ['approve']),
    actor: input.actor,
    reason: reviewNote || 'approved',
    guard: refundableOrder,
    apply: async (tx, a, lines) => {
      if (a.kind !== 'REFUND_ONLY') return { reviewNote };
      if (a.goods === 'UNSHIPPED') await restockLines(tx, a, lines);
      return { reviewNote, refundId: await input.recordRefund(tx, a, a.itemsAmount + a.shippingAmount) };
    },
    seal: input.seal,
  });
  if (res.changed) await afterReturnApproved(ctx, res.afterSale);
  return res;
}

/** The merchant refuses, with a note the buyer sees; the units are free for another request. */
export async function rejectAfterSale(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; actor: Actor; note: string; seal?: Seal<AfterSaleResult> },
): Promise<AfterSaleResult> {
  const reviewNote = note(input.note, 'note');
  if (!reviewNote) throw new AppError('VALIDATION_FAILED', 'a rejection needs a note for the buyer');
  return transitionAfterSale(ctx, {
    afterSaleId: input.afterSaleId,
    events: ['reject'],
    actor: input.actor,
    reason: reviewNote,
    apply: async () => ({ reviewNote }),
    seal: input.seal,
  });
}

/** The buyer withdraws a request not yet refunding and with nothing shipped back (REQUESTED or APPROVED). */
export async function withdrawAfterSale(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; userId?: bigint; actor: Actor; reason?: string; seal?: Seal<AfterSaleResult> },
): Promise<AfterSaleResult> {
  return transitionAfterSale(ctx, {
    afterSaleId: input.afterSaleId,
    userId: input.userId,
    events: ['withdraw'],
    actor: input.actor,
    reason: note(input.reason, 'reason') || 'withdrawn',
    seal: input.seal,
  });
}

/** The buyer has sent the goods back: the carrier and tracking number of the return parcel. */
export async function shipReturn(
  ctx: ServiceContext,
  input: {
    afterSaleId: bigint;
    userId?: bigint;
    actor: Actor;
    carrier: string;
    trackingNo: string;
    seal?: Seal<AfterSaleResult>;
  },
): Promise<AfterSaleResult> {
  const carrier = input.carrier.trim();
  const trackingNo = input.trackingNo.trim();
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(carrier))
    throw new AppError('VALIDATION_FAILED', 'carrier: 1-32 letters, digits, _ or -');
  if (!/^[A-Za-z0-9-]{4,64}$/.test(trackingNo)) {
    throw new AppError('VALIDATION_FAILED', 'trackingNo: 4-64 letters, digits or -');
  }
  return transitionAfterSale(ctx, {
    afterSaleId: input.afterSaleId,
    userId: input.userId,
    events: ['ship_return'],
    actor: input.actor,
    reason: `${carrier} ${trackingNo}`,
    apply: async () => ({ returnCarrier: carrier, returnTrackingNo: trackingNo }),
    seal: input.seal,
  });
}

/**
 * The merchant has the goods back: the returned units go back to stock (once: the step is one
 * conditional UPDATE, so a second receive is a no-op) and the refund starts (RETURN_RECEIVED -> REFUNDING).
 */
export async function receiveReturn(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; actor: Actor; recordRefund: RecordRefund; seal?: Seal<AfterSaleResult> },
): Promise<AfterSaleResult> {
  return transitionAfterSale(ctx, {
    afterSaleId: input.afterSaleId,
    events: ['receive', 'start_refund'],
    actor: input.actor,
    reason: 'return received',
    guard: refundableOrder,
    apply: async (tx, a, lines) => {
      await restockLines(tx, a, lines);
      return { refundId: await input.recordRefund(tx, a, a.itemsAmount + a.shippingAmount) };
    },
    seal: input.seal,
  });
}

/** The after-sale's units go back to stock (returned goods received, or goods that never shipped). */
async function restockLines(tx: Tx, a: AfterSaleRow, lines: AfterSaleLineRow[]) {
  const items = new Map((await getItems(tx, a.orderId)).map((i) => [i.id, i]));
  for (const l of lines) {
    const item = items.get(l.orderItemId)!;
    if (!(await restockSold(tx, item.skuId, l.quantity))) {
      throw new Error(`stock invariant broken: SKU ${item.skuId} has less sold than after-sale ${a.id} brings back`);
    }
  }
}
