import { recordDeadLetter, resolveIfReplayed } from '../internal/deadletter/index.js';
import {
  dlqReaderOf,
  dlqTopicOf,
  type GroupDef,
  type MessageHandler,
  type ParkedMessage,
} from '../internal/mq/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

/** What every consumer loop of this process does with a permanent failure and after a success. */
export const deadLetterHooks = (ctx: ServiceContext) => ({
  park: (m: ParkedMessage) => recordDeadLetter(ctx, m, 'PARKED'),
  onApplied: (meta: { properties: Record<string, string> }) => resolveIfReplayed(ctx, meta.properties),
});

/**
 * The DLQ reader of a group: copies every message the broker moved to %DLQ%<group> (transient failures
 * whose retries ran out) into the dead-letter table, under the original topic and group, and acks it.
 */
export function dlqReader(group: GroupDef) {
  const record = (ctx: ServiceContext, m: Omit<ParkedMessage, 'group'>) =>
    recordDeadLetter(ctx, { ...m, group: group.name, meta: { ...m.meta, topic: group.topic } }, 'DLQ');
  return {
    group: dlqReaderOf(group.name),
    topic: dlqTopicOf(group.name),
    handler:
      (ctx: ServiceContext): MessageHandler =>
      (env, meta) =>
        record(ctx, {
          meta,
          body: meta.body.toString('utf8'),
          eventId: env.eventId,
          error: { code: 'RETRIES_EXHAUSTED', message: `the broker gave up after ${group.maxRetries} retries` },
        }),
    // A DLQ message that is not even an envelope is recorded as it is.
    park: (ctx: ServiceContext) => (m: ParkedMessage) => record(ctx, m),
  };
}
