import { isAppError } from '../errorx/index.js';
import { RetryLaterError } from '../mq/index.js';
import type { ServiceContext } from '../svc/index.js';
import { cancelOrder } from './cancel-order.js';
import { parseDeadlineMessage } from './messages.js';

/**
 * A payment deadline (an order_timeout message for one order, or a flash-sale batch's orders) applied:
 * each order still unpaid is cancelled as TIMEOUT. What a refusal means:
 * - still PENDING_PAYMENT (the delay fired up to a second early): later (RetryLaterError; the orders of
 *   the message cancelled already are no-ops then);
 * - paid or cancelled meanwhile: nothing to do.
 * Invalid data is VALIDATION_FAILED (parked); anything else is thrown as it is.
 */
export async function applyPaymentDeadline(ctx: ServiceContext, data: unknown): Promise<{ orders: number }> {
  const { orderIds } = parseDeadlineMessage(data);
  for (const orderId of orderIds) {
    try {
      await cancelOrder(ctx, { orderId, reason: 'TIMEOUT', actor: { type: 'SYSTEM', id: 'order_timeout' } });
    } catch (err) {
      if (!isAppError(err) || err.code !== 'ORDER_STATE_CONFLICT') throw err;
      if (err.details?.currentStatus === 'PENDING_PAYMENT') {
        throw new RetryLaterError('the payment deadline has not passed yet');
      }
    }
  }
  return { orders: orderIds.length };
}
