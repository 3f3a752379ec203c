import { index, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id } from './columns.js';

/**
 * Outgoing transactional events. The row is written in the local transaction of a RocketMQ
 * transaction message; the broker's check-back commits the half message when the row exists and
 * rolls it back when it is absent and old. Also the source for replaying events.
 */
export const mqTxLog = mysqlTable(
  'mq_tx_log',
  {
    id: id('id').primaryKey(),
    eventId: varchar('event_id', { length: 36 }).notNull(),
    topic: varchar('topic', { length: 64 }).notNull(),
    eventType: varchar('event_type', { length: 64 }).notNull(),
    messageKey: varchar('message_key', { length: 64 }).notNull(),
    payload: json('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('uk_mq_tx_log_event_id').on(t.eventId),
    index('idx_mq_tx_log_created_at').on(t.createdAt),
    // An order's events (replay-events --order, the CLI's order dossier).
    index('idx_mq_tx_log_message_key').on(t.messageKey),
  ],
);
