import { AppError } from '../errorx/index.js';
import { type Actor, changeOrderSide, getOrder, moveRefund } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { getRefund, reopenRefund } from './repository.js';
import { sendRefund } from './send-refund.js';

/**
 * An operator retries a FAILED refund: it becomes PENDING again (the order REFUND_FAILED -> REFUNDING)
 * and is sent to the provider once more. Stock is not touched: it went back when the refund started.
 */
export async function retryRefund(ctx: ServiceContext, input: { refundId: bigint; actor: Actor; dryRun?: boolean }) {
  const refund = await getRefund(ctx.db, input.refundId);
  if (!refund) throw new AppError('REFUND_NOT_FOUND', `refund ${input.refundId} not found`);
  if (refund.status !== 'FAILED') {
    throw new AppError(
      'ORDER_STATE_CONFLICT',
      `refund ${input.refundId} is ${refund.status}; only FAILED refunds can be retried`,
      {
        currentStatus: refund.status,
      },
    );
  }
  if (input.dryRun) return { refund, sent: false };
  const reopen = async (tx: Parameters<typeof reopenRefund>[0]) => {
    if (!(await reopenRefund(tx, refund.id))) throw new AppError('CONCURRENT_MODIFICATION', 'refund changed meanwhile');
  };
  const order = await getOrder(ctx.db, refund.orderId);
  if (order?.status === 'REFUND_FAILED' && refund.kind !== 'AUTO_UNKEPT_PAYMENT') {
    await moveRefund(ctx, {
      orderId: refund.orderId,
      event: 'retry_refund',
      actor: input.actor,
      reason: 'refund retried',
      apply: reopen,
    });
  } else {
    await changeOrderSide(ctx, refund.orderId, reopen);
  }
  await sendRefund(ctx, { ...refund, status: 'PENDING', providerRefundId: null });
  return { refund: (await getRefund(ctx.db, refund.id))!, sent: true };
}
