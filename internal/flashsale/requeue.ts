import { newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import { FLASHSALE_BATCH_EVENT, type QueuedTicket } from './messages.js';
import { insertTickets, recentSales, type TicketRow, ticketsByIds } from './repository.js';
import type { TicketState } from './rules.js';
import { settleInRedis } from './settle.js';

/** Queued this many re-send intervals without reaching the DB: the ticket fails and its units go back. */
const GIVE_UP_AFTER = 20;

/**
 * The flashsale-requeue job: finds tickets Redis admitted but the DB never recorded (the restful process
 * died with them buffered, or a send failed) once they have been queued `requeueAfterSeconds`:
 * - the DB has them (the consumer died before telling Redis): Redis is settled;
 * - otherwise they are sent again in batches (the consumer skips what it already has);
 * - after GIVE_UP_AFTER intervals they are FAILED and their units return to the sale.
 */
export async function requeueLostTickets(ctx: ServiceContext, input: { now?: number } = {}) {
  const now = input.now ?? Date.now();
  const { requeueAfterSeconds, batchSize } = ctx.config.flashSale;
  const olderThan = now - requeueAfterSeconds * 1000;
  let resent = 0;
  let settled = 0;
  let failed = 0;
  for (const sale of await recentSales(ctx.db, new Date(now), 24 * 3600_000)) {
    const k = saleKeys(sale.id);
    const seqs = await ctx.redis.zrangebyscore(k.queued, '-inf', olderThan, 'LIMIT', 0, 5000);
    if (seqs.length === 0) continue;
    const known = await ticketsByIds(
      ctx.db,
      seqs.map((s) => BigInt(s)),
    );
    await settleInRedis(ctx, sale.id, known);
    settled += known.length;
    const knownIds = new Set(known.map((r) => String(r.id)));
    const lost = seqs.filter((s) => !knownIds.has(s));
    if (lost.length === 0) continue;
    const raw = await ctx.redis.hmget(k.tickets, ...lost);
    const again: QueuedTicket[] = [];
    const expired: TicketRow[] = [];
    for (const [i, seq] of lost.entries()) {
      const t = raw[i] ? (JSON.parse(raw[i]!) as TicketState) : undefined;
      if (!t) continue;
      if (t.queuedAt < now - GIVE_UP_AFTER * requeueAfterSeconds * 1000) {
        expired.push({
          id: BigInt(seq),
          saleId: sale.id,
          userId: BigInt(t.userId),
          quantity: t.quantity,
          status: 'FAILED',
          orderId: null,
          failureReason: 'not processed in time',
          createdAt: new Date(now),
          updatedAt: new Date(now),
        });
      } else {
        again.push({
          seq,
          userId: t.userId,
          quantity: t.quantity,
          address: (t.address ?? {}) as Record<string, unknown>,
          queuedAt: t.queuedAt,
        });
      }
    }
    if (expired.length > 0) {
      await insertTickets(ctx.db, expired);
      await settleInRedis(ctx, sale.id, expired);
      failed += expired.length;
    }
    for (let i = 0; i < again.length; i += batchSize) {
      const chunk = again.slice(i, i + batchSize);
      await requireMq(ctx).send({
        topic: topics.flashsaleTicket.name,
        envelope: newEnvelope(FLASHSALE_BATCH_EVENT, { saleId: String(sale.id), tickets: chunk }),
        key: String(sale.id),
      });
      // Not re-sent again before another interval.
      await ctx.redis.zadd(k.queued, 'XX', ...chunk.flatMap((t) => [now, t.seq]));
      resent += chunk.length;
    }
  }
  return { resent, settled, failed };
}
