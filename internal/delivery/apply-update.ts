import { isAppError } from '../errorx/index.js';
import { RetryLaterError } from '../mq/index.js';
import type { ServiceContext } from '../svc/index.js';
import { markDelivered } from './mark-delivered.js';
import { parseDeliveryUpdate } from './messages.js';

export type DeliveryOutcome = 'delivered' | 'duplicate' | 'lost_parcel_ignored';

/**
 * A carrier's delivery update (a delivery_notify message) applied to its order, and what a refusal means:
 * - a parcel the order does not have yet (the carrier reported before it was recorded), or an order not
 *   shipped yet: later (RetryLaterError; after the group's retries, a dead letter);
 * - a parcel reported lost that turns up: its refund already went out, so it is logged and left to an
 *   operator;
 * - an order delivered, completed or refunded already: a duplicate.
 * Invalid data is VALIDATION_FAILED (parked); anything else is thrown as it is.
 */
export async function applyDeliveryUpdate(ctx: ServiceContext, data: unknown): Promise<DeliveryOutcome> {
  const { orderId, deliveredAt, trackingNo, carrier } = parseDeliveryUpdate(data);
  const actor = { type: 'SYSTEM' as const, id: 'logistics' };
  try {
    const res = await markDelivered(ctx, { orderId, actor, at: deliveredAt, trackingNo, carrier });
    return res.changed ? 'delivered' : 'duplicate';
  } catch (err) {
    if (!isAppError(err)) throw err;
    if (err.code === 'SHIPMENT_NOT_FOUND') throw new RetryLaterError(err.message);
    if (err.code === 'SHIPMENT_STATE_CONFLICT') {
      ctx.logger.warn({ orderId: String(orderId), trackingNo, err: err.message }, 'delivery of a lost parcel ignored');
      return 'lost_parcel_ignored';
    }
    if (err.code !== 'ORDER_STATE_CONFLICT') throw err;
    if (err.details?.currentStatus === 'PAID') throw new RetryLaterError('the order is not shipped yet');
    return 'duplicate';
  }
}
