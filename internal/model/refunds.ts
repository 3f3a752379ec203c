import { boolean, index, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money, ts, updatedAt } from './columns.js';

/** A refund of (part of) a succeeded payment: cancel after payment, after-sale, or automatic. */
export const refunds = mysqlTable(
  'refunds',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    paymentId: id('payment_id').notNull(),
    kind: varchar('kind', { length: 24 }).notNull(),
    amount: money('amount').notNull(),
    reason: varchar('reason', { length: 200 }).notNull().default(''),
    status: varchar('status', { length: 16 }).notNull(),
    restock: boolean('restock').notNull().default(false),
    providerRefundId: varchar('provider_refund_id', { length: 64 }),
    /** The after-sale this refund pays, when it pays one (kind AFTER_SALE_LINES). */
    afterSaleId: id('after_sale_id'),
    refundedAt: ts('refunded_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_refunds_order_id').on(t.orderId), index('idx_refunds_status_created').on(t.status, t.createdAt)],
);
