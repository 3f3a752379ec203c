import type { ParkedMessage } from '../mq/index.js';
import type { ServiceContext } from '../svc/index.js';
import { mqMetrics } from '../telemetry/index.js';
import { markResolved, reparkDeadLetter, upsertDeadLetter } from './repository.js';

/** Property set on a replayed message: the dead letter it came from. */
export const DEAD_LETTER_PROPERTY = 'dead_letter_id';

/**
 * Stores a message a consumer gave up on: `PARKED` for a permanent failure (never retried), `DLQ` for
 * one the broker moved to %DLQ%<group> after its retries. A replayed letter that fails again goes back
 * to PARKED on its own row.
 */
export async function recordDeadLetter(ctx: ServiceContext, m: ParkedMessage, source: 'PARKED' | 'DLQ') {
  const now = new Date();
  const replayOf = m.meta.properties[DEAD_LETTER_PROPERTY];
  if (replayOf && /^\d{1,20}$/.test(replayOf)) {
    await reparkDeadLetter(ctx.db, BigInt(replayOf), m.error, now);
  } else {
    await upsertDeadLetter(ctx.db, {
      id: ctx.ids.next(),
      source,
      messageId: m.meta.messageId.slice(0, 64),
      eventId: m.eventId.slice(0, 64),
      topic: m.meta.topic.slice(0, 64),
      consumerGroup: m.group.slice(0, 64),
      tag: (m.meta.tag ?? '').slice(0, 64),
      messageKey: (m.meta.keys[0] ?? '').slice(0, 128),
      messageGroup: (m.meta.messageGroup ?? '').slice(0, 128),
      body: m.body,
      errorCode: m.error.code.slice(0, 64),
      errorMessage: m.error.message.slice(0, 500),
      attempts: m.meta.deliveryAttempt,
      status: 'PARKED',
      firstSeenAt: now,
      lastSeenAt: now,
    });
  }
  mqMetrics(ctx.metrics).deadLetters.inc({ topic: m.meta.topic, group: m.group, source });
}

/** After a message was applied: if it was a replayed dead letter, the letter is resolved. */
export async function resolveIfReplayed(ctx: ServiceContext, properties: Record<string, string>) {
  const id = properties[DEAD_LETTER_PROPERTY];
  if (id && /^\d{1,20}$/.test(id)) await markResolved(ctx.db, BigInt(id), new Date());
}
