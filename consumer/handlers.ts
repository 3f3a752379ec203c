import type { GroupDef, MessageHandler } from '../internal/mq/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

export interface Subscription {
  group: GroupDef;
  /** Tag expression; `*` takes every tag of the topic. */
  filter: string;
  handler: (ctx: ServiceContext) => MessageHandler;
}

/**
 * The consumer process's subscriptions: one consumer group per topic, each calling one use case.
 * Payment results, delivery updates, order timeouts and flash-sale tickets are added here together
 * with their use cases in internal/.
 */
export const subscriptions: Subscription[] = [];
