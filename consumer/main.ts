import { ConsumerLoop } from '../internal/mq/index.js';
import { runProcess } from '../internal/svc/index.js';
import { startAdminServer } from '../internal/telemetry/index.js';
import { subscriptions } from './handlers.js';

// Consumer process: one receive loop per subscription; on SIGTERM stop receiving and finish the batch in hand.
await runProcess('consumer', { mq: true }, async (ctx) => {
  const loops = subscriptions.map(
    (s) =>
      new ConsumerLoop({
        ...ctx.config.rocketmq,
        group: s.group.name,
        topic: s.group.topic,
        filter: s.filter,
        handler: s.handler(ctx),
        logger: ctx.logger,
        metrics: ctx.metrics,
        tracer: ctx.tracer,
      }),
  );
  for (const loop of loops) await loop.start();
  ctx.logger.info({ groups: loops.map((l) => l.group) }, 'consumers started');
  const admin = await startAdminServer({
    host: ctx.config.admin.host,
    port: ctx.config.admin.consumerPort,
    metrics: ctx.metrics,
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
