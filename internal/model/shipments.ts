import { mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ts, updatedAt } from './columns.js';

export const shipments = mysqlTable(
  'shipments',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    carrier: varchar('carrier', { length: 32 }).notNull(),
    trackingNo: varchar('tracking_no', { length: 64 }).notNull(),
    status: varchar('status', { length: 16 }).notNull(),
    shippedAt: ts('shipped_at').notNull(),
    deliveredAt: ts('delivered_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('uk_shipments_order_id').on(t.orderId),
    uniqueIndex('uk_shipments_tracking').on(t.carrier, t.trackingNo),
  ],
);
