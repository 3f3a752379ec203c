import { index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id } from './columns.js';

/** One row per transition, written in the same transaction as the order UPDATE. */
export const orderStatusLog = mysqlTable(
  'order_status_log',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    fromStatus: varchar('from_status', { length: 24 }).notNull(),
    toStatus: varchar('to_status', { length: 24 }).notNull(),
    version: int('version').notNull(),
    actorType: varchar('actor_type', { length: 16 }).notNull(),
    actorId: varchar('actor_id', { length: 64 }).notNull().default(''),
    reason: varchar('reason', { length: 200 }).notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [index('idx_order_status_log_order_id').on(t.orderId, t.id)],
);
