import { subscriptions } from '../../consumer/handlers.js';
import { ConsumerLoop } from '../../internal/mq/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { testLogger } from './logger.js';

/** The consumer process's payment_notify subscription, running in the test process with a 1 s retry. */
export async function startPaymentConsumer(ctx: ServiceContext): Promise<ConsumerLoop> {
  const sub = subscriptions.find((s) => s.group.name === 'qianfan-order-payment')!;
  const loop = new ConsumerLoop({
    ...ctx.config.rocketmq,
    group: sub.group.name,
    topic: sub.group.topic,
    filter: sub.filter,
    awaitMs: 4000,
    handler: sub.handler(ctx),
    logger: testLogger,
    metrics: ctx.metrics,
    tracer: ctx.tracer,
    backoffMs: () => 1000,
  });
  await loop.start();
  return loop;
}
