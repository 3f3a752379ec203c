import cron, { type ScheduledTask } from 'node-cron';
import { tryLock } from '../internal/lock/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import type { JobDef } from './jobs.js';

/**
 * Schedules each job with node-cron. A Redis lease makes one run happen on one instance only, and
 * noOverlap keeps a slow run from stacking. `stop()` stops the schedule and waits for running jobs.
 */
export function startScheduler(ctx: ServiceContext, defs: JobDef[]) {
  const running = new Set<Promise<unknown>>();
  const tasks: ScheduledTask[] = [];

  const runOnce = async (def: JobDef) => {
    const lock = await tryLock(ctx.redis, `job:${def.name}`, def.leaseMs);
    if (!lock) {
      ctx.logger.debug({ job: def.name }, 'job skipped: another instance holds its lease');
      return;
    }
    const started = Date.now();
    try {
      const result = await def.run(ctx);
      ctx.logger.info({ job: def.name, ms: Date.now() - started, result }, 'job finished');
    } catch (err) {
      ctx.logger.error({ err, job: def.name, ms: Date.now() - started }, 'job failed');
    } finally {
      await lock.release().catch(() => {});
    }
  };

  for (const def of defs) {
    const task = cron.schedule(
      def.schedule,
      () => {
        const p = runOnce(def);
        running.add(p);
        return p.finally(() => running.delete(p));
      },
      { name: def.name, noOverlap: true, timezone: 'UTC' },
    );
    tasks.push(task);
  }
  ctx.logger.info({ jobs: defs.map((d) => `${d.name} @ ${d.schedule}`) }, 'jobs scheduled');

  return {
    async stop() {
      for (const t of tasks) await t.stop();
      await Promise.allSettled([...running]);
      for (const t of tasks) await t.destroy();
    },
  };
}
