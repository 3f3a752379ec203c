import { AppError, isDuplicateKey } from '../errorx/index.js';
import { changeOrderSide, getOrder, markPaid } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { failPayment, getPayment, getRefund, insertRefund, settlePayment } from './repository.js';
import { sendRefund } from './send-refund.js';

export interface PaymentResult {
  paymentId: bigint;
  status: 'SUCCEEDED' | 'FAILED';
  amount: number;
  currency: string;
  providerTxnId: string;
  failureReason?: string;
  occurredAt?: Date;
}

export type ApplyOutcome = 'PAID' | 'FAILED' | 'DUPLICATE' | 'REFUNDING_ORPHAN';

/**
 * Applies a provider's payment result. Duplicates are no-ops; a success after a recorded failure is
 * treated like any success (kept if the order can still take it, refunded otherwise). A success moves the order to PAID; a
 * success that cannot be kept (the order was cancelled, or another payment already paid it) is
 * recorded and refunded automatically: money is never lost.
 */
export async function applyPaymentResult(ctx: ServiceContext, r: PaymentResult): Promise<ApplyOutcome> {
  const outcome = await apply(ctx, r);
  serviceMetrics(ctx.metrics).paymentResults.inc({ outcome });
  return outcome;
}

async function apply(ctx: ServiceContext, r: PaymentResult): Promise<ApplyOutcome> {
  const payment = await getPayment(ctx.db, r.paymentId);
  if (!payment) throw new AppError('PAYMENT_NOT_FOUND', `payment ${r.paymentId} not found`);
  // A success reported after a failure of the same attempt (or after reconciliation closed it as EXPIRED)
  // is money taken: it is kept or refunded below.
  const lateSuccess = (payment.status === 'FAILED' || payment.status === 'EXPIRED') && r.status === 'SUCCEEDED';
  if (payment.status !== 'PENDING' && !lateSuccess) return 'DUPLICATE';
  if (r.amount !== payment.amount || r.currency !== payment.currency) {
    throw new AppError(
      'PAYMENT_AMOUNT_MISMATCH',
      `result says ${r.amount} ${r.currency}, payment is ${payment.amount} ${payment.currency}`,
    );
  }
  if (r.status === 'FAILED') {
    const failed = await changeOrderSide(ctx, payment.orderId, (tx) =>
      failPayment(tx, payment.id, r.failureReason ?? 'failed at provider'),
    );
    return failed ? 'FAILED' : 'DUPLICATE';
  }
  const paidAt = r.occurredAt ?? new Date();
  const order = await getOrder(ctx.db, payment.orderId);
  if (order?.status === 'PENDING_PAYMENT') {
    try {
      const res = await markPaid(ctx, {
        orderId: payment.orderId,
        amount: r.amount,
        currency: r.currency,
        paidAt,
        actorId: payment.provider,
        settlePayment: async (tx) => {
          if (!(await settlePayment(tx, payment.id, payment.orderId, true, paidAt, r.providerTxnId))) {
            throw new AppError('CONCURRENT_MODIFICATION', 'payment already settled');
          }
        },
      });
      if (res.changed) return 'PAID';
    } catch (err) {
      // Lost the race to a cancel, to another payment (the unique kept-payment index) or to a price
      // adjustment (an attempt for the old total): the money is recorded and refunded.
      const lostRace =
        isDuplicateKey(err) ||
        (err instanceof AppError &&
          ['ORDER_STATE_CONFLICT', 'CONCURRENT_MODIFICATION', 'PAYMENT_AMOUNT_MISMATCH'].includes(err.code));
      if (!lostRace) throw err;
      if ((await getPayment(ctx.db, payment.id))?.status === 'SUCCEEDED') return 'DUPLICATE';
    }
  }
  return refundOrphan(ctx, payment.id, payment.orderId, r, paidAt);
}

/** Records a success the order cannot keep and asks the provider to give the money back. */
async function refundOrphan(ctx: ServiceContext, paymentId: bigint, orderId: bigint, r: PaymentResult, paidAt: Date) {
  const refundId = ctx.ids.next();
  const settled = await changeOrderSide(ctx, orderId, async (tx) => {
    if (!(await settlePayment(tx, paymentId, orderId, false, paidAt, r.providerTxnId))) return false;
    await insertRefund(tx, {
      id: refundId,
      orderId,
      paymentId,
      kind: 'AUTO_UNKEPT_PAYMENT',
      amount: r.amount,
      reason: 'payment arrived for an order that cannot take it',
      status: 'PENDING',
      restock: false,
    });
    return true;
  });
  if (!settled) return 'DUPLICATE';
  ctx.logger.warn(
    { paymentId: paymentId.toString(), orderId: orderId.toString() },
    'payment cannot be kept; refunding it',
  );
  const refund = await getRefund(ctx.db, refundId);
  if (refund) await sendRefund(ctx, refund); // on failure the resend-refunds job sends it
  return 'REFUNDING_ORPHAN';
}
