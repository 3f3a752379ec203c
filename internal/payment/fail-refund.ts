import { AppError } from '../errorx/index.js';
import { changeOrderSide, getOrder, moveRefund } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { failRefundRow, getRefund } from './repository.js';

/**
 * The provider refused a refund: the refund is FAILED with its reason and, for an order refund, the
 * order moves REFUNDING -> REFUND_FAILED where operators see it (`qianfan-order refund retry`).
 * Duplicates and a failure after a success are no-ops.
 */
export async function failRefund(ctx: ServiceContext, input: { refundId: bigint; amount: number; reason: string }) {
  const refund = await getRefund(ctx.db, input.refundId);
  if (!refund) throw new AppError('REFUND_NOT_FOUND', `refund ${input.refundId} not found`);
  if (refund.status !== 'PENDING') return 'DUPLICATE' as const;
  if (refund.amount !== input.amount) {
    throw new AppError('PAYMENT_AMOUNT_MISMATCH', `refund failure says ${input.amount}, refund is ${refund.amount}`);
  }
  const fail = async (tx: Parameters<typeof failRefundRow>[0]) => {
    if (!(await failRefundRow(tx, refund.id, input.reason)))
      throw new AppError('CONCURRENT_MODIFICATION', 'refund already settled');
  };
  const order = await getOrder(ctx.db, refund.orderId);
  if (refund.kind === 'AUTO_UNKEPT_PAYMENT' || order?.status !== 'REFUNDING') {
    await changeOrderSide(ctx, refund.orderId, fail);
  } else {
    await moveRefund(ctx, {
      orderId: refund.orderId,
      event: 'fail_refund',
      actor: { type: 'PROVIDER', id: 'refund' },
      reason: 'refund failed',
      apply: fail,
    });
  }
  ctx.logger.warn(
    { refundId: refund.id.toString(), orderId: refund.orderId.toString(), reason: input.reason },
    'refund refused by the provider; retry it with `qianfan-order refund retry`',
  );
  return 'REFUND_FAILED' as const;
}
