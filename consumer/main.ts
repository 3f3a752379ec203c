import { ConsumerLoop, retryBackoff } from '../internal/mq/index.js';
import { runProcess } from '../internal/svc/index.js';
import { startAdminServer } from '../internal/telemetry/index.js';
import { deadLetterHooks, dlqReader } from './dead-letters.js';
import { subscriptions } from './handlers.js';

// Consumer process: receive loops per subscription (several in flight, so one slow queue never holds the
// others), plus a DLQ reader per group; on SIGTERM stop receiving and finish the batches in hand.
await runProcess('consumer', { mq: true }, async (ctx) => {
  const common = {
    ...ctx.config.rocketmq,
    logger: ctx.logger,
    metrics: ctx.metrics,
    tracer: ctx.tracer,
  };
  const loops = subscriptions.map(
    (s) =>
      new ConsumerLoop({
        ...common,
        ...deadLetterHooks(ctx),
        concurrency: ctx.config.rocketmq.consumerConcurrency,
        group: s.group.name,
        topic: s.group.topic,
        filter: s.filter,
        invisibleMs: s.group.invisibleMs,
        backoffMs: retryBackoff(s.group),
        handler: s.handler(ctx),
      }),
  );
  for (const s of subscriptions.filter((x) => x.group.dlq)) {
    const r = dlqReader(s.group);
    loops.push(
      new ConsumerLoop({ ...common, group: r.group, topic: r.topic, handler: r.handler(ctx), park: r.park(ctx) }),
    );
  }
  for (const loop of loops) await loop.start();
  ctx.logger.info({ groups: loops.map((l) => l.group) }, 'consumers started');
  const admin = await startAdminServer({
    host: ctx.config.admin.host,
    port: ctx.config.admin.consumerPort,
    metrics: ctx.metrics,
    degradable: ctx.degradable,
    checks: {
      ...ctx.checks,
      consumers: async () => {
        const stopped = loops.filter((l) => !l.isRunning()).map((l) => l.group);
        if (stopped.length > 0) throw new Error(`not running: ${stopped.join(', ')}`);
      },
    },
    logger: ctx.logger,
  });
  return {
    async drain() {
      admin.markDraining();
      await Promise.all(loops.map((l) => l.stop()));
      await admin.close();
    },
  };
});
