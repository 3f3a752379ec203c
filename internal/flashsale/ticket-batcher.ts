import { Batcher, newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { FLASHSALE_BATCH_EVENT, type QueuedTicket } from './messages.js';

/** Sends one flashsale_ticket message holding one sale's tickets. */
export async function sendTicketBatch(ctx: ServiceContext, saleId: string, tickets: QueuedTicket[]) {
  await requireMq(ctx).send({
    topic: topics.flashsaleTicket.name,
    envelope: newEnvelope(FLASHSALE_BATCH_EVENT, { saleId, tickets }),
    key: saleId,
  });
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
