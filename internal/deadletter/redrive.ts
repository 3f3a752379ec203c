import { and, asc, eq, inArray, lt } from 'drizzle-orm';
import { deadLetters } from '../model/index.js';
import { topics } from '../mq/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { replayDeadLetters } from './replay.js';
import { countOpenDeadLetters } from './repository.js';

/** Topics whose messages move money: their letters that ran out of retries are re-driven automatically. */
export const MONEY_TOPICS = [topics.paymentNotify.name];
/** Automatic re-drives of one letter; after these an operator decides (the alert stays on). */
export const MAX_AUTO_REDRIVES = 3;

/**
 * The redrive-dead-letters job. A payment result that ran out of broker retries during an outage
 * (RETRIES_EXHAUSTED) is re-published once the dependencies answer again: MySQL (this query), and the
 * broker (the producer is running). Only letters quiet for `quietMs` and re-driven fewer than
 * MAX_AUTO_REDRIVES times; permanent failures (invalid, refers to nothing) are never re-driven. Sets
 * qianfan_dead_letters_open per topic, which an alert watches for the money topics.
 */
export async function redriveDeadLetters(
  ctx: ServiceContext,
  input: { now?: Date; quietMs?: number; limit?: number } = {},
) {
  const now = input.now ?? new Date();
  const gauge = serviceMetrics(ctx.metrics).deadLettersOpen;
  gauge.reset();
  for (const c of await countOpenDeadLetters(ctx.db)) gauge.inc({ topic: c.topic }, Number(c.n));
  for (const topic of MONEY_TOPICS) gauge.inc({ topic }, 0);
  if (!ctx.mq?.isRunning()) return { redriven: 0, waiting: 'the broker producer is not running' };
  const due = await ctx.db
    .select({ id: deadLetters.id })
    .from(deadLetters)
    .where(
      and(
        inArray(deadLetters.topic, MONEY_TOPICS),
        eq(deadLetters.status, 'PARKED'),
        eq(deadLetters.errorCode, 'RETRIES_EXHAUSTED'),
        lt(deadLetters.replayCount, MAX_AUTO_REDRIVES),
        lt(deadLetters.lastSeenAt, new Date(now.getTime() - (input.quietMs ?? 5 * 60_000))),
      ),
    )
    .orderBy(asc(deadLetters.id))
    .limit(input.limit ?? 100);
  if (due.length === 0) return { redriven: 0 };
  const r = await replayDeadLetters(ctx, { ids: due.map((d) => d.id) });
  ctx.logger.info({ ids: r.replayed }, 'payment dead letters re-driven after their retries ran out');
  return { redriven: r.replayed.length };
}
