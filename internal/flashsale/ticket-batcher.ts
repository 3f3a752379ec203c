import { Batcher, newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import { FLASHSALE_BATCH_EVENT, type QueuedTicket } from './messages.js';
import { MARK_SENT } from './scripts.js';
import { SendGate } from './send-gate.js';

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
 * Redis and the flashsale-requeue job sends them again. Every send tells `gate` whether the broker
 * took the batch (send-gate.ts: purchases pause while it does not).
 */
export function ticketBatcher(
  ctx: ServiceContext,
  opts: {
    gate?: SendGate;
    onFlush?: (saleId: string, count: number, reason: 'size' | 'interval' | 'close') => void;
  } = {},
) {
  const { batchSize, batchIntervalMs, maxBuffered } = ctx.config.flashSale;
  return new Batcher<{ saleId: string; ticket: QueuedTicket }>({
    size: batchSize,
    intervalMs: batchIntervalMs,
    maxBuffered,
    shardOf: (x) => x.saleId,
    flush: async (saleId, items) => {
      await sendTicketBatch(
        ctx,
        saleId,
        items.map((x) => x.ticket),
      );
      opts.gate?.sent();
    },
    onError: (err, saleId, items) => {
      opts.gate?.failed();
      ctx.logger.error(
        { err, saleId, tickets: items.length },
        'flash-sale batch not sent; the requeue job re-sends it',
      );
    },
    onFlush: opts.onFlush,
  });
}

/**
 * What restful's purchase route needs: the batcher, and a gate that pauses purchases while batches
 * do not reach the broker (a warning when it pauses and when it resumes).
 */
export function ticketSender(ctx: ServiceContext) {
  const gate = new SendGate({
    onChange: (paused) =>
      ctx.logger.warn(
        paused
          ? 'flash-sale purchases paused: ticket batches do not reach RocketMQ; one purchase a second probes it'
          : 'flash-sale purchases resumed: a ticket batch reached RocketMQ',
      ),
  });
  const batcher = ticketBatcher(ctx, { gate });
  return {
    enqueue: (saleId: string, ticket: QueuedTicket) => batcher.add({ saleId, ticket }),
    admitting: () => gate.admit(),
    close: () => batcher.close(),
  };
}
