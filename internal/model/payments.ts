import { index, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money, ts, updatedAt } from './columns.js';

/**
 * One row per payment attempt. `succeededOrderId` is set to the order id only when the attempt
 * succeeded; its unique index makes "at most one succeeded payment per order" a database fact.
 */
export const payments = mysqlTable(
  'payments',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    provider: varchar('provider', { length: 32 }).notNull(),
    providerTxnId: varchar('provider_txn_id', { length: 64 }),
    amount: money('amount').notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    status: varchar('status', { length: 16 }).notNull(),
    succeededOrderId: id('succeeded_order_id'),
    failureReason: varchar('failure_reason', { length: 200 }),
    raw: json('raw').$type<Record<string, unknown>>(),
    paidAt: ts('paid_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_payments_order_id').on(t.orderId),
    uniqueIndex('uk_payments_succeeded_order').on(t.succeededOrderId),
    uniqueIndex('uk_payments_provider_txn').on(t.provider, t.providerTxnId),
    index('idx_payments_status_created').on(t.status, t.createdAt),
  ],
);
