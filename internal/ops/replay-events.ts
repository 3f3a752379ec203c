import { asc, eq, gte } from 'drizzle-orm';
import { AppError } from '../errorx/index.js';
import { mqTxLog } from '../model/index.js';
import { newEnvelope, topics } from '../mq/index.js';
import { ORDER_CREATED_BATCH } from '../order/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';

/**
 * Re-publishes order_event messages from the tx-log for consumers that missed them: same event id,
 * type and data (consumers dedupe by event id; the data carries the order version). The topic takes
 * transaction messages only, so each goes out as one that commits at once (its tx-log row exists).
 * A batch's events (order.created.batch) go out one by one as plain order.created messages: each has its
 * own tx-log row; the batch's own row is skipped.
 */
export async function replayOrderEvents(
  ctx: ServiceContext,
  by: {
    orderId?: bigint;
    since?: Date;
    dryRun?: boolean;
    limit?: number;
    onProgress?: (done: number, total: number) => void;
  },
) {
  if (by.orderId === undefined && by.since === undefined)
    throw new AppError('VALIDATION_FAILED', 'give an order id or a time');
  const where =
    by.orderId !== undefined ? eq(mqTxLog.messageKey, String(by.orderId)) : gte(mqTxLog.createdAt, by.since!);
  const rows = await ctx.db
    .select()
    .from(mqTxLog)
    .where(where)
    .orderBy(asc(mqTxLog.id))
    .limit(by.limit ?? 10_000);
  const events = rows.filter((r) => r.topic === topics.orderEvent.name && r.eventType !== ORDER_CREATED_BATCH);
  let sent = 0;
  for (const r of events) {
    if (!by.dryRun) {
      await requireMq(ctx).sendInTransaction(
        { topic: r.topic, envelope: newEnvelope(r.eventType, r.payload, r.eventId), key: r.messageKey },
        async (ltx) => {
          ltx.beforeCommit();
          return {};
        },
      );
    }
    sent++;
    by.onProgress?.(sent, events.length);
  }
  return {
    events: events.map((e) => ({ eventId: e.eventId, type: e.eventType, orderId: e.messageKey })),
    replayed: by.dryRun ? 0 : sent,
    dryRun: Boolean(by.dryRun),
  };
}
