import { jobs } from '../internal/jobs/index.js';
import { runProcess } from '../internal/svc/index.js';
import { startAdminServer } from '../internal/telemetry/index.js';
import { startScheduler } from './scheduler.js';

// Scheduler process: cron jobs under Redis leases; on SIGTERM stop scheduling and wait for running jobs.
await runProcess('job', { mq: true }, async (ctx) => {
  const scheduler = startScheduler(ctx, jobs);
  const admin = await startAdminServer({
    host: ctx.config.admin.host,
    port: ctx.config.admin.jobPort,
    metrics: ctx.metrics,
    checks: ctx.checks,
    degradable: ctx.degradable,
    logger: ctx.logger,
  });
  return {
    async drain() {
      admin.markDraining();
      await scheduler.stop();
      await admin.close();
    },
  };
});
