import { deadLetterHooks } from '../../consumer/dead-letters.js';
import { type Subscription, subscriptions } from '../../consumer/handlers.js';
import { ConsumerLoop, retryBackoff } from '../../internal/mq/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { testLogger } from './logger.js';

/** One of the consumer process's subscriptions, wired as consumer/main.ts wires it (dead letters, concurrency). */
export async function startSubscription(ctx: ServiceContext, group: string): Promise<ConsumerLoop> {
  const sub = subscriptions.find((s: Subscription) => s.group.name === group)!;
  const loop = new ConsumerLoop({
    ...ctx.config.rocketmq,
    ...deadLetterHooks(ctx),
    concurrency: ctx.config.rocketmq.consumerConcurrency,
    group: sub.group.name,
    topic: sub.group.topic,
    filter: sub.filter,
    backoffMs: retryBackoff(sub.group),
    awaitMs: 4000,
    handler: sub.handler(ctx),
    logger: testLogger,
    metrics: ctx.metrics,
    tracer: ctx.tracer,
  });
  await loop.start();
  return loop;
}

/** The consumer process's payment_notify subscription, running in the test process. */
export const startPaymentConsumer = (ctx: ServiceContext) => startSubscription(ctx, 'qianfan-order-payment');
