import { markDelivered } from '../internal/delivery/index.js';
import { isAppError } from '../internal/errorx/index.js';
import { consumerGroups, type GroupDef, type MessageHandler } from '../internal/mq/index.js';
import { cancelOrder } from '../internal/order/index.js';
import { applyNotification, type PaymentNotification } from '../internal/payment/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

export interface Subscription {
  group: GroupDef;
  /** Tag expression; `*` takes every tag of the topic. */
  filter: string;
  handler: (ctx: ServiceContext) => MessageHandler;
}

/** A state conflict means the order already moved on (paid before its deadline, delivered twice): done. */
const doneOnConflict = (err: unknown) => {
  if (isAppError(err) && err.code === 'ORDER_STATE_CONFLICT' && err.details?.payDeadline === undefined) return;
  throw err;
};

/** The consumer process's subscriptions: one consumer group per topic, each calling one use case. */
export const subscriptions: Subscription[] = [
  {
    group: consumerGroups.payment,
    filter: 'payment.notification',
    handler: (ctx) => async (env) => {
      const outcome = await applyNotification(ctx, env.data as PaymentNotification);
      ctx.logger.info({ eventId: env.eventId, outcome }, 'payment notification applied');
    },
  },
  {
    group: consumerGroups.timeout,
    filter: 'order.payment_deadline',
    handler: (ctx) => async (env) => {
      const { orderId } = env.data as { orderId: string };
      // Before the deadline (the timer may fire up to a second early) the conflict is thrown: retried later.
      await cancelOrder(ctx, {
        orderId: BigInt(orderId),
        reason: 'TIMEOUT',
        actor: { type: 'SYSTEM', id: 'order_timeout' },
      }).catch(doneOnConflict);
    },
  },
  {
    group: consumerGroups.delivery,
    filter: 'delivery.delivered',
    handler: (ctx) => async (env) => {
      const { orderId, deliveredAt } = env.data as { orderId: string; deliveredAt?: string };
      await markDelivered(ctx, {
        orderId: BigInt(orderId),
        actor: { type: 'SYSTEM', id: 'logistics' },
        at: deliveredAt ? new Date(deliveredAt) : undefined,
      }).catch(doneOnConflict);
    },
  },
];
