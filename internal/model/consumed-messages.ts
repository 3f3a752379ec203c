import { index, mysqlTable, primaryKey, varchar } from 'drizzle-orm/mysql-core';
import { createdAt } from './columns.js';

/** Dedupe for consumers: a (group, event id) row is inserted in the same transaction as the effect. */
export const consumedMessages = mysqlTable(
  'consumed_messages',
  {
    consumerGroup: varchar('consumer_group', { length: 64 }).notNull(),
    eventId: varchar('event_id', { length: 64 }).notNull(),
    topic: varchar('topic', { length: 64 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.consumerGroup, t.eventId] }),
    index('idx_consumed_messages_created_at').on(t.createdAt),
  ],
);
