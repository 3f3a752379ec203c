import { Batcher, newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import { FLASHSALE_BATCH_EVENT, type QueuedTicket } from './messages.js';
import { MARK_SENT } from './scripts.js';

/**
 * Sends one flashsale_ticket message holding one sale's tickets, then marks them sent in Redis: the
 * flashsale-requeue job re-sends only tickets without the mark (a failed send, or a process that died
 * with them buffered), never ones the broker holds for a consumer that is behind. A lost mark only
 * means a re-send, which the consumer skips.
 */
export async function sendTicketBatch(ctx: ServiceContext, saleId: string, tickets: QueuedTicket[]) {
  const { messageId } = await requireMq(ctx).send({
    topic: topics.flashsaleTicket.name,
    envelope: newEnvelope(FLASHSALE_BATCH_EVENT, { saleId, tickets }),
    key: saleId,
  });
  const k = saleKeys(saleId);
  await MARK_SENT.run(
    ctx.redis,
    [k.queued, k.sent],
    [`${messageId}@${Date.now()}`, ...tickets.map((t) => t.seq)],
  ).catch((err: unknown) =>
    ctx.logger.warn({ err, saleId }, 'flash-sale batch sent but not marked; the requeue job may send it again'),
  );
}

/**
 * The restful process's ticket batcher: one message per sale per `flashSale.batchSize` tickets or
 * `flashSale.batchIntervalMs`, whichever first. A failed send is logged; the tickets stay queued in
 * Redis and the flashsale-requeue job sends them again.
 */
export function ticketBatcher(
  ctx: ServiceContext,
  onFlush?: (saleId: string, count: number, reason: 'size' | 'interval' | 'close') => void,
) {
  const { batchSize, batchIntervalMs, maxBuffered } = ctx.config.flashSale;
  return new Batcher<{ saleId: string; ticket: QueuedTicket }>({
    size: batchSize,
    intervalMs: batchIntervalMs,
    maxBuffered,
    shardOf: (x) => x.saleId,
    flush: (saleId, items) =>
      sendTicketBatch(
        ctx,
        saleId,
        items.map((x) => x.ticket),
      ),
    onError: (err, saleId, items) =>
      ctx.logger.error(
        { err, saleId, tickets: items.length },
        'flash-sale batch not sent; the requeue job re-sends it',
      ),
    onFlush,
  });
}
