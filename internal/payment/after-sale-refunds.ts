import {
  type AfterSaleResult,
  approveAfterSale,
  finishAfterSaleRefund,
  type RecordRefund,
  type RequestAfterSaleInput,
  receiveReturn,
  requestAfterSale,
} from '../aftersale/index.js';
import { AppError } from '../errorx/index.js';
import type { Actor, Seal, Tx } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import {
  getRefund,
  insertRefund,
  keptPaymentOf,
  markPaymentRefunded,
  type RefundRow,
  refundsOfOrder,
  settleRefund,
} from './repository.js';
import { sendRefund } from './send-refund.js';

/** The kind of a refund that pays an after-sale (some units of some lines, and maybe the shipping). */
export const AFTER_SALE_REFUND = 'AFTER_SALE_LINES';

/** Records the after-sale's refund of the order's kept payment, PENDING, in the step's transaction. */
function recorder(refundId: bigint): RecordRefund {
  return async (tx, a, amount) => {
    const kept = await keptPaymentOf(tx, a.orderId);
    if (!kept) throw new AppError('PAYMENT_NOT_FOUND', `order ${a.orderId} has no kept payment to refund`);
    await insertRefund(tx, {
      id: refundId,
      orderId: a.orderId,
      paymentId: kept.id,
      kind: AFTER_SALE_REFUND,
      amount,
      reason: `after-sale ${a.id}: ${a.reason}`.slice(0, 200),
      status: 'PENDING',
      restock: false,
      afterSaleId: a.id,
    });
    return refundId;
  };
}

/** After the step committed: the refund goes to the provider (the resend-refunds job sends it if this fails). */
async function sendIfStarted(ctx: ServiceContext, res: AfterSaleResult, refundId: bigint) {
  if (!res.changed || res.afterSale.refundId !== refundId) return;
  const refund = await getRefund(ctx.db, refundId);
  if (!refund) return;
  await sendRefund(ctx, refund).catch((err: unknown) =>
    ctx.logger.warn(
      { err, refundId: String(refundId) },
      'after-sale refund not sent yet; the resend-refunds job retries it',
    ),
  );
}

/** The merchant approves an after-sale; a refund-only one is refunded at once. */
export async function approveAfterSaleRequest(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; actor: Actor; note?: string; seal?: Seal<AfterSaleResult> },
): Promise<AfterSaleResult> {
  const refundId = ctx.ids.next();
  const res = await approveAfterSale(ctx, { ...input, recordRefund: recorder(refundId) });
  await sendIfStarted(ctx, res, refundId);
  return res;
}

/**
 * The buyer's after-sale request. With order.autoApproveUnshippedRefunds, a refund of units not shipped yet
 * is approved right after it is recorded (actor SYSTEM), so its refund goes out without a review; the answer
 * is the request as recorded (a replay gives the same). Should the approval fail, the request waits in
 * the review queue like any other.
 */
export async function openAfterSaleRequest(
  ctx: ServiceContext,
  input: RequestAfterSaleInput,
): Promise<AfterSaleResult> {
  const res = await requestAfterSale(ctx, input);
  if (!res.changed || res.afterSale.goods !== 'UNSHIPPED' || !ctx.config.order.autoApproveUnshippedRefunds) return res;
  await approveAfterSaleRequest(ctx, {
    afterSaleId: res.afterSale.id,
    actor: { type: 'SYSTEM', id: 'auto-approve' },
    note: 'approved automatically: not shipped yet',
  }).catch((err: unknown) =>
    ctx.logger.warn(
      { err, afterSaleId: String(res.afterSale.id) },
      'auto-approval failed; the request waits for review',
    ),
  );
  return res;
}

/** The merchant has the returned goods: they go back to stock and the refund starts. */
export async function receiveAfterSaleReturn(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; actor: Actor; seal?: Seal<AfterSaleResult> },
): Promise<AfterSaleResult> {
  const refundId = ctx.ids.next();
  const res = await receiveReturn(ctx, { ...input, recordRefund: recorder(refundId) });
  await sendIfStarted(ctx, res, refundId);
  return res;
}

/**
 * The provider confirmed an after-sale's refund (from completeRefund). The kept payment is marked REFUNDED
 * only when its refunds add up to all of it.
 */
export async function completeAfterSaleRefund(ctx: ServiceContext, refund: RefundRow, at: Date) {
  const settle = async (tx: Tx) => {
    if (!(await settleRefund(tx, refund.id, at)))
      throw new AppError('CONCURRENT_MODIFICATION', 'refund already settled');
    const back = (await refundsOfOrder(tx, refund.orderId))
      .filter((r) => r.paymentId === refund.paymentId && r.status === 'SUCCEEDED' && r.kind !== 'AUTO_UNKEPT_PAYMENT')
      .reduce((n, r) => n + r.amount, 0);
    const kept = await keptPaymentOf(tx, refund.orderId);
    if (kept && kept.id === refund.paymentId && back === kept.amount) await markPaymentRefunded(tx, kept.id);
  };
  await finishAfterSaleRefund(ctx, { afterSaleId: refund.afterSaleId!, amount: refund.amount, settle });
}
