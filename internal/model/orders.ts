import { getTableColumns, sql } from 'drizzle-orm';
import { index, int, json, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money, ts, updatedAt } from './columns.js';

export interface AddressSnapshot {
  name: string;
  phone: string;
  province: string;
  city: string;
  district: string;
  detail: string;
  postcode?: string;
}

/** One order. Status moves only through internal/order's transition table; `version` guards every UPDATE. */
export const orders = mysqlTable(
  'orders',
  {
    id: id('id').primaryKey(),
    orderNo: varchar('order_no', { length: 32 }).notNull(),
    userId: id('user_id').notNull(),
    status: varchar('status', { length: 24 }).notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    itemsAmount: money('items_amount').notNull(),
    shippingFee: money('shipping_fee').notNull().default(0),
    discountAmount: money('discount_amount').notNull().default(0),
    totalAmount: money('total_amount').notNull(),
    paidAmount: money('paid_amount').notNull().default(0),
    refundedAmount: money('refunded_amount').notNull().default(0),
    address: json('address').$type<AddressSnapshot>().notNull(),
    note: varchar('note', { length: 500 }).notNull().default(''),
    source: varchar('source', { length: 16 }).notNull().default('APP'),
    version: int('version').notNull().default(0),
    /**
     * Counts changes to the order's payment attempts and refunds that are not order transitions (an
     * attempt opened, failed or closed; a refund refused or retried), so the cached whole order and its
     * ETag change with them (internal/order/side-change.ts).
     */
    sideRev: int('side_rev').notNull().default(0),
    payDeadline: ts('pay_deadline').notNull(),
    paidAt: ts('paid_at'),
    shippedAt: ts('shipped_at'),
    deliveredAt: ts('delivered_at'),
    completedAt: ts('completed_at'),
    cancelledAt: ts('cancelled_at'),
    cancelReason: varchar('cancel_reason', { length: 32 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    /** The receiver phone's last four digits, for customer service's search; computed by MySQL. */
    phoneLast4: varchar('phone_last4', { length: 4 }).generatedAlwaysAs(
      sql`RIGHT(JSON_UNQUOTE(JSON_EXTRACT(address, '$.phone')), 4)`,
      { mode: 'virtual' },
    ),
  },
  (t) => [
    uniqueIndex('uk_orders_order_no').on(t.orderNo),
    index('idx_orders_user_id').on(t.userId, t.id),
    // A buyer's unpaid orders, for the per-user caps at create.
    index('idx_orders_user_status').on(t.userId, t.status),
    index('idx_orders_status_deadline').on(t.status, t.payDeadline),
    index('idx_orders_status_delivered').on(t.status, t.deliveredAt),
    // Orders shipped long ago with no delivery signal (auto-complete).
    index('idx_orders_status_shipped').on(t.status, t.shippedAt),
    index('idx_orders_created_at').on(t.createdAt),
    // Admin search (internal/order/search-orders.ts): each filter a range of one index, newest id first.
    index('idx_orders_status_id').on(t.status, t.id),
    index('idx_orders_source_id').on(t.source, t.id),
    index('idx_orders_phone_last4_id').on(t.phoneLast4, t.id),
  ],
);

/**
 * The columns of an order row as the code reads it: every column but the search-only `phone_last4`.
 * Select with this (`select(orderColumns).from(orders)`), not `select()`, so rows equal what was written.
 */
export const { phoneLast4: _phoneLast4, ...orderColumns } = getTableColumns(orders);
