import { expireReturnIfDue, parseReturnDeadline, RETURN_DEADLINE_TYPE } from '../internal/aftersale/index.js';
import { applyDeliveryUpdate } from '../internal/delivery/index.js';
import { createFlashSaleOrders, returnCancelledUnits } from '../internal/flashsale/index.js';
import { consumerGroups, type GroupDef, type MessageHandler } from '../internal/mq/index.js';
import { applyPaymentDeadline } from '../internal/order/index.js';
import { applyNotification, closeUnkeepablePayments } from '../internal/payment/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

export interface Subscription {
  group: GroupDef;
  /** Tag expression; `*` takes every tag of the topic. */
  filter: string;
  handler: (ctx: ServiceContext) => MessageHandler;
}

/**
 * The consumer process's subscriptions: one consumer group per topic, each validating the message's
 * data and calling one use case. Failures are classified by internal/mq: invalid data and unknown
 * entities are parked at once; infrastructure errors are retried.
 */
export const subscriptions: Subscription[] = [
  {
    group: consumerGroups.payment,
    filter: 'payment.notification',
    handler: (ctx) => async (env) => {
      const outcome = await applyNotification(ctx, env.data);
      ctx.logger.info({ eventId: env.eventId, outcome }, 'payment notification applied');
    },
  },
  {
    group: consumerGroups.timeout,
    filter: `order.payment_deadline || ${RETURN_DEADLINE_TYPE}`,
    handler: (ctx) => async (env) => {
      if (env.type === RETURN_DEADLINE_TYPE) {
        const { afterSaleId } = parseReturnDeadline(env.data);
        const outcome = await expireReturnIfDue(ctx, afterSaleId);
        ctx.logger.info({ eventId: env.eventId, afterSaleId: String(afterSaleId), outcome }, 'return deadline handled');
        return;
      }
      const r = await applyPaymentDeadline(ctx, env.data);
      ctx.logger.debug({ eventId: env.eventId, ...r }, 'payment deadline handled');
    },
  },
  {
    group: consumerGroups.flashsale,
    filter: 'flashsale.tickets',
    handler: (ctx) => async (env) => {
      const r = await createFlashSaleOrders(ctx, env.data);
      ctx.logger.debug({ eventId: env.eventId, ...r }, 'flash-sale batch handled');
    },
  },
  {
    group: consumerGroups.flashsaleReturns,
    filter: 'order.cancelled',
    handler: (ctx) => async (env) => {
      await returnCancelledUnits(ctx, env.data);
    },
  },
  {
    group: consumerGroups.paymentClose,
    filter: 'order.cancelled || order.price_adjusted',
    handler: (ctx) => async (env) => {
      const r = await closeUnkeepablePayments(ctx, env.type, env.data);
      if (r.closed + r.paid > 0) ctx.logger.info({ eventId: env.eventId, type: env.type, ...r }, 'payments closed');
    },
  },
  {
    group: consumerGroups.delivery,
    filter: 'delivery.delivered',
    handler: (ctx) => async (env) => {
      const outcome = await applyDeliveryUpdate(ctx, env.data);
      ctx.logger.info({ eventId: env.eventId, outcome }, 'delivery update applied');
    },
  },
];
