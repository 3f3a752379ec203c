import { liveOfOrder } from '../aftersale/index.js';
import { AppError } from '../errorx/index.js';
import { type Actor, getOrder, startRefund } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { getRefund, insertRefund, keptPaymentOf } from './repository.js';
import { sendRefund } from './send-refund.js';

/** Statuses whose money goes back by after-sale only. */
const AFTER_SHIPPING = ['PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'COMPLETED'];

export interface RequestRefundInput {
  orderId: bigint;
  /** Users may refund only their own orders; admins leave this out. */
  userId?: bigint;
  actor: Actor;
  reason: string;
}

/**
 * Cancel after payment (PAID, nothing shipped): the order moves to REFUNDING, the goods go back to stock, a
 * refund of the whole kept payment is recorded and sent to the provider; its confirmation completes it.
 * Once anything has shipped, money goes back by after-sale (POST /v1/orders/{id}/after-sales).
 */
export async function requestRefund(ctx: ServiceContext, input: RequestRefundInput) {
  const order = await getOrder(ctx.db, input.orderId);
  if (order && (input.userId === undefined || order.userId === input.userId) && AFTER_SHIPPING.includes(order.status)) {
    throw new AppError(
      'ORDER_STATE_CONFLICT',
      `the order is ${order.status}: goods that shipped are refunded by after-sale (POST /v1/orders/${order.id}/after-sales), line by line`,
      { currentStatus: order.status },
    );
  }
  const kept = await keptPaymentOf(ctx.db, input.orderId);
  const refundId = ctx.ids.next();
  const res = await startRefund(ctx, {
    orderId: input.orderId,
    userId: input.userId,
    actor: input.actor,
    reason: input.reason,
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
        kind: 'CANCEL_AFTER_PAYMENT',
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
