import { index, int, mediumtext, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ts, updatedAt } from './columns.js';

/**
 * Messages a consumer could not apply: parked at once when the failure is permanent (malformed,
 * invalid, unknown payment, amount mismatch), or read from the broker's %DLQ%<group> after the
 * group's retries ran out. Operators list them and replay them (`qianfan-order dlq`).
 * status: PARKED (waiting for an operator) -> REPLAYED (re-published) -> RESOLVED (applied) | PARKED again.
 */
export const deadLetters = mysqlTable(
  'dead_letters',
  {
    id: id('id').primaryKey(),
    /** PARKED by the consumer, or DLQ when read from the broker's dead-letter queue. */
    source: varchar('source', { length: 8 }).notNull(),
    messageId: varchar('message_id', { length: 64 }).notNull(),
    eventId: varchar('event_id', { length: 64 }).notNull().default(''),
    topic: varchar('topic', { length: 64 }).notNull(),
    consumerGroup: varchar('consumer_group', { length: 64 }).notNull(),
    tag: varchar('tag', { length: 64 }).notNull().default(''),
    messageKey: varchar('message_key', { length: 128 }).notNull().default(''),
    messageGroup: varchar('message_group', { length: 128 }).notNull().default(''),
    body: mediumtext('body').notNull(),
    errorCode: varchar('error_code', { length: 64 }).notNull(),
    errorMessage: varchar('error_message', { length: 500 }).notNull().default(''),
    attempts: int('attempts').notNull().default(1),
    status: varchar('status', { length: 16 }).notNull(),
    replayCount: int('replay_count').notNull().default(0),
    firstSeenAt: ts('first_seen_at').notNull(),
    lastSeenAt: ts('last_seen_at').notNull(),
    resolvedAt: ts('resolved_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('uk_dead_letters_message').on(t.consumerGroup, t.messageId),
    index('idx_dead_letters_status_topic').on(t.status, t.topic, t.id),
  ],
);
