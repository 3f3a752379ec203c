import { closeFullyRefunded } from '../aftersale/index.js';
import { AppError } from '../errorx/index.js';
import { finishRefund, getOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { completeAfterSaleRefund } from './after-sale-refunds.js';
import { getRefund, markPaymentRefunded, settleRefund } from './repository.js';

/**
 * The provider confirmed a refund. Order refunds move the order REFUNDING -> REFUNDED; an after-sale's
 * refund completes the after-sale (internal/aftersale); refunds of a
 * payment the order could not keep only settle the refund (the order stays as it is). Duplicates are no-ops.
 */
export async function completeRefund(ctx: ServiceContext, input: { refundId: bigint; amount: number; at?: Date }) {
  const refund = await getRefund(ctx.db, input.refundId);
  if (!refund) throw new AppError('REFUND_NOT_FOUND', `refund ${input.refundId} not found`);
  if (refund.status === 'SUCCEEDED') {
    // Came again: mends an order a crash left DELIVERED with all its money back.
    if (refund.afterSaleId !== null) await closeFullyRefunded(ctx, refund.orderId);
    return 'DUPLICATE' as const;
  }
  if (refund.amount !== input.amount) {
    throw new AppError(
      'PAYMENT_AMOUNT_MISMATCH',
      `refund confirmation says ${input.amount}, refund is ${refund.amount}`,
    );
  }
  const at = input.at ?? new Date();
  if (refund.afterSaleId !== null) {
    await completeAfterSaleRefund(ctx, refund, at);
    return 'REFUNDED' as const;
  }
  const settle = async (tx: Parameters<typeof settleRefund>[0]) => {
    if (!(await settleRefund(tx, refund.id, at)))
      throw new AppError('CONCURRENT_MODIFICATION', 'refund already settled');
    await markPaymentRefunded(tx, refund.paymentId);
  };
  const order = await getOrder(ctx.db, refund.orderId);
  if (refund.kind === 'AUTO_UNKEPT_PAYMENT' || (order?.status !== 'REFUNDING' && order?.status !== 'REFUND_FAILED')) {
    await ctx.db.transaction(settle).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'CONCURRENT_MODIFICATION') return;
      throw err;
    });
    return 'REFUNDED' as const;
  }
  await finishRefund(ctx, { orderId: refund.orderId, amount: refund.amount, settleRefund: settle });
  return 'REFUNDED' as const;
}
