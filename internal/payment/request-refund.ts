import { liveOfOrder } from '../aftersale/index.js';
import { AppError } from '../errorx/index.js';
import { type Actor, startRefund } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { getRefund, insertRefund, keptPaymentOf } from './repository.js';
import { sendRefund } from './send-refund.js';

export interface RequestRefundInput {
  orderId: bigint;
  /** Users may refund only their own orders; admins leave this out. */
  userId?: bigint;
  actor: Actor;
  reason: string;
}

/**
 * Cancel-after-payment (PAID: goods go back to stock) or after-sale (DELIVERED / COMPLETED within
 * order.refundWindowDays): the order moves to REFUNDING, a refund of the kept payment is recorded and
 * sent to the provider. The provider's confirmation (webhook) completes it.
 */
export async function requestRefund(ctx: ServiceContext, input: RequestRefundInput) {
  const kept = await keptPaymentOf(ctx.db, input.orderId);
  const refundId = ctx.ids.next();
  const res = await startRefund(ctx, {
    orderId: input.orderId,
    userId: input.userId,
    actor: input.actor,
    reason: input.reason,
    refundWindowDays: ctx.config.order.refundWindowDays,
    recordRefund: async (tx, restock, amount) => {
      if (!kept) throw new AppError('PAYMENT_NOT_FOUND', `order ${input.orderId} has no kept payment to refund`);
      // The whole paid amount cannot go back when after-sales hold part of it (checked with the order locked).
      const { live } = await liveOfOrder(tx, input.orderId);
      if (live.length > 0) {
        throw new AppError(
          'ORDER_STATE_CONFLICT',
          `order ${input.orderId} has after-sales (${live.map((a) => `${a.id} ${a.status}`).join(', ')}); refund the rest by after-sale`,
        );
      }
      await insertRefund(tx, {
        id: refundId,
        orderId: input.orderId,
        paymentId: kept.id,
        kind: restock ? 'CANCEL_AFTER_PAYMENT' : 'AFTER_SALE',
        amount,
        reason: input.reason.slice(0, 200),
        status: 'PENDING',
        restock,
      });
    },
  });
  if (res.changed && kept) {
    // If this call fails the refund stays recorded without a provider id; the resend-refunds job sends it.
    const refund = await getRefund(ctx.db, refundId);
    if (refund) await sendRefund(ctx, refund);
  }
  return res;
}
