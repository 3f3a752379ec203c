import type { ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import type { QueuedTicket } from './messages.js';
import { insertTickets, recentSales, type TicketRow, ticketsByIds } from './repository.js';
import type { TicketState } from './rules.js';
import { settleInRedis } from './settle.js';
import { sendTicketBatch } from './ticket-batcher.js';

/**
 * Never sent for this long after purchase (the broker refused every send): the ticket fails and its units
 * go back. A broker outage shorter than this fails no ticket.
 */
const GIVE_UP_AFTER_MS = 5 * 60_000;
/**
 * A batch the broker took but no consumer recorded for this long: the consumer is down, or the broker
 * lost it (its host crashed before flushing). Sent once more per this interval; the consumer skips
 * duplicates. Far beyond the flashsale group's own retries (about a minute), so a backlog the consumer
 * is working through is not multiplied.
 */
const RESEND_SENT_AFTER_MS = 30 * 60_000;

/**
 * The flashsale-requeue job: finds tickets Redis admitted but the DB never recorded once they have been
 * queued `requeueAfterSeconds`:
 * - the DB has them (the consumer died before telling Redis): Redis is settled;
 * - marked sent (the broker holds their batch; the consumer is behind or retrying it): left alone, so a
 *   backlog is not multiplied, until RESEND_SENT_AFTER_MS; if their batch fails for good it is in the
 *   dead-letter table. They never fail here: the broker has them;
 * - not sent (a failed send, or the restful process died with them buffered): sent again in batches
 *   (the consumer skips what it already has);
 * - not sent GIVE_UP_AFTER_MS after purchase, nor within 20 re-send intervals (the broker never had
 *   them): FAILED, units back to the sale.
 * Every sale of the last day, or only `saleId`.
 */
export async function requeueLostTickets(ctx: ServiceContext, input: { now?: number; saleId?: bigint } = {}) {
  const now = input.now ?? Date.now();
  const olderThan = now - ctx.config.flashSale.requeueAfterSeconds * 1000;
  const total = { resent: 0, settled: 0, failed: 0, inBroker: 0 };
  const sales =
    input.saleId !== undefined ? [{ id: input.saleId }] : await recentSales(ctx.db, new Date(now), 24 * 3600_000);
  for (const sale of sales) {
    const k = saleKeys(sale.id);
    // Page through every ticket queued long enough (oldest first): tickets the broker holds stay in the
    // set, so a long backlog of them never hides a lost ticket queued after it.
    for (let offset = 0; ; ) {
      const seqs = await ctx.redis.zrangebyscore(k.queued, '-inf', olderThan, 'LIMIT', offset, PAGE);
      if (seqs.length === 0) break;
      const r = await requeuePage(ctx, sale.id, seqs, now);
      total.resent += r.resent;
      total.settled += r.settled;
      total.failed += r.failed;
      total.inBroker += r.inBroker;
      if (seqs.length < PAGE) break;
      offset += seqs.length - r.settled - r.failed; // settled and failed ones left the set
    }
  }
  return total;
}

const PAGE = 5000;

async function requeuePage(ctx: ServiceContext, saleId: bigint, seqs: string[], now: number) {
  const { requeueAfterSeconds, batchSize } = ctx.config.flashSale;
  const k = saleKeys(saleId);
  const out = { resent: 0, settled: 0, failed: 0, inBroker: 0 };
  const known = await ticketsByIds(
    ctx.db,
    seqs.map((s) => BigInt(s)),
  );
  await settleInRedis(ctx, saleId, known);
  out.settled = known.length;
  const knownIds = new Set(known.map((r) => String(r.id)));
  const missing = seqs.filter((s) => !knownIds.has(s));
  if (missing.length === 0) return out;
  const marks = await ctx.redis.hmget(k.sent, ...missing);
  const sentAt = (m: string | null) => Number(m?.split('@')[1] ?? 0);
  const lost = missing.filter((_, i) => !marks[i] || sentAt(marks[i]!) < now - RESEND_SENT_AFTER_MS);
  const wasSent = new Set(missing.filter((_, i) => marks[i]));
  out.inBroker = missing.length - lost.length;
  if (lost.length === 0) return out;
  const raw = await ctx.redis.hmget(k.tickets, ...lost);
  const again: QueuedTicket[] = [];
  const expired: TicketRow[] = [];
  for (const [i, seq] of lost.entries()) {
    const t = raw[i] ? (JSON.parse(raw[i]!) as TicketState) : undefined;
    if (!t) continue;
    if (!wasSent.has(seq) && t.queuedAt < now - Math.max(GIVE_UP_AFTER_MS, 20 * requeueAfterSeconds * 1000)) {
      expired.push({
        id: BigInt(seq),
        saleId,
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
    await settleInRedis(ctx, saleId, expired);
    out.failed = expired.length;
  }
  for (let i = 0; i < again.length; i += batchSize) {
    const chunk = again.slice(i, i + batchSize);
    await sendTicketBatch(ctx, String(saleId), chunk);
    out.resent += chunk.length;
  }
  return out;
}
