import { Counter, type Registry } from 'prom-client';
import { describeFailure } from '../mq/index.js';
import type { ServiceContext } from '../svc/index.js';
import { perRegistry } from '../telemetry/index.js';

export interface SweepResult {
  total: number;
  ok: number;
  failed: number;
}

const itemsCounter = perRegistry(
  (registry: Registry) =>
    new Counter({
      name: 'qianfan_sweep_items_total',
      help: 'Items handled by sweep jobs, by sweep and result (ok, failed)',
      labelNames: ['sweep', 'result'] as const,
      registers: [registry],
    }),
);

/**
 * Runs `fn` for every item of a sweep (expired orders, stale refunds, ...), one at a time: a failing
 * item is logged with its id and counted, and never stops the items after it. The next run of the
 * sweep picks failed items up again.
 */
export async function sweepEach<T>(
  ctx: ServiceContext,
  sweep: string,
  items: T[],
  idOf: (item: T) => string,
  fn: (item: T) => Promise<unknown>,
): Promise<SweepResult> {
  const counter = itemsCounter(ctx.metrics);
  const result: SweepResult = { total: items.length, ok: 0, failed: 0 };
  for (const item of items) {
    try {
      await fn(item);
      result.ok++;
      counter.inc({ sweep, result: 'ok' });
    } catch (err) {
      result.failed++;
      counter.inc({ sweep, result: 'failed' });
      ctx.logger.error(
        { err, sweep, item: idOf(item), code: describeFailure(err).code },
        'sweep item failed; the next run retries it',
      );
    }
  }
  return result;
}
