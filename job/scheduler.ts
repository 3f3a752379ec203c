import cron, { type ScheduledTask } from 'node-cron';
import { type JobDef, runJob } from '../internal/jobs/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

/**
 * Schedules each job with node-cron (schedule from config `jobs.*`, UTC). runJob makes each tick run on
 * one instance only (lease + tick marker); noOverlap keeps a slow run from stacking in this process.
 * `stop()` stops the schedule and waits for running jobs.
 */
export function startScheduler(ctx: ServiceContext, defs: JobDef[]) {
  const running = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];
  for (const def of defs) {
    const schedule = ctx.config.jobs[def.configKey];
    const task = cron.schedule(
      schedule,
      (c) => {
        const p = runJob(ctx, def, { tick: Math.floor(c.date.getTime() / 1000) });
        running.add(p);
        return p.finally(() => running.delete(p));
      },
      { name: def.name, noOverlap: true, timezone: 'UTC' },
    );
    tasks.push(task);
  }
  ctx.logger.info({ jobs: defs.map((d) => `${d.name} @ ${ctx.config.jobs[d.configKey]}`) }, 'jobs scheduled');
  return {
    async stop() {
      for (const t of tasks) await t.stop();
      await Promise.allSettled([...running]);
      for (const t of tasks) await t.destroy();
    },
  };
}
