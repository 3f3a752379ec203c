import { withLease } from '../lock/index.js';
import type { ServiceContext } from '../svc/index.js';
import { inSpan, jobMetrics } from '../telemetry/index.js';
import type { JobDef } from './catalog.js';

export type JobRun =
  | { status: 'ok'; result: unknown; items: number; ms: number }
  | { status: 'failed'; error: string; ms: number }
  | { status: 'skipped'; reason: string };

/**
 * How long a tick's marker outlives the tick: far beyond any clock skew between job processes, and few
 * keys even for a job every 2 s (1,800).
 */
const TICK_MARKER_SECONDS = 3600;

/**
 * One run of a job, on one instance only: a renewed lease `lock:job:<name>` keeps runs from overlapping
 * (across processes too), and with `tick` (the cron's scheduled second) a marker makes every tick run
 * once even when several job processes fire it. Metrics per job and one log line per run.
 */
export async function runJob(ctx: ServiceContext, def: JobDef, opts: { tick?: number } = {}): Promise<JobRun> {
  const m = jobMetrics(ctx.metrics);
  const started = Date.now();
  let out: JobRun = { status: 'skipped', reason: 'another instance is running it' };
  const leased = await withLease(ctx.redis, `job:${def.name}`, def.leaseMs, async () => {
    if (opts.tick !== undefined) {
      const first = await ctx.redis.set(`job:${def.name}:tick:${opts.tick}`, '1', 'EX', TICK_MARKER_SECONDS, 'NX');
      if (first !== 'OK') {
        out = { status: 'skipped', reason: 'this tick already ran on another instance' };
        return;
      }
    }
    try {
      // One span per run: what the job changes (orders cancelled, events published) joins its trace.
      const result = await inSpan(ctx.tracer, `job ${def.name}`, { attributes: { 'qianfan.job': def.name } }, () =>
        def.run(ctx),
      );
      out = { status: 'ok', result, items: def.items(result as never), ms: Date.now() - started };
    } catch (err) {
      out = { status: 'failed', error: (err as Error)?.message ?? String(err), ms: Date.now() - started };
      ctx.logger.error({ err, job: def.name }, 'job failed');
    }
  });
  if (!leased.acquired || out.status === 'skipped') {
    m.runs.inc({ job: def.name, result: 'skipped' });
    ctx.logger.debug({ job: def.name, ...out }, 'job skipped');
    return out;
  }
  const done = out as Exclude<JobRun, { status: 'skipped' }>;
  m.runs.inc({ job: def.name, result: done.status });
  m.duration.observe({ job: def.name }, done.ms / 1000);
  if (done.status === 'ok') {
    m.items.inc({ job: def.name }, done.items);
    m.lastSuccess.set({ job: def.name }, Date.now() / 1000);
    // One line per run; runs that found nothing to do are logged at debug so frequent jobs stay quiet.
    const line = { job: def.name, ms: done.ms, items: done.items, result: done.result, tick: opts.tick };
    if (done.items > 0 || done.ms > 1000) ctx.logger.info(line, 'job finished');
    else ctx.logger.debug(line, 'job finished');
  }
  if (leased.lost)
    ctx.logger.warn({ job: def.name }, 'job lease was lost while running: another instance may have run it too');
  return done;
}
