import { index, int, json, mysqlTable, primaryKey, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money, updatedAt } from './columns.js';

/**
 * An after-sale request (售后) on some lines of a delivered order: refund only, or return and refund.
 * Status moves only through internal/aftersale's transition table; `version` guards every UPDATE.
 */
export const afterSales = mysqlTable(
  'after_sales',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    userId: id('user_id').notNull(),
    kind: varchar('kind', { length: 24 }).notNull(),
    status: varchar('status', { length: 24 }).notNull(),
    reason: varchar('reason', { length: 200 }).notNull(),
    evidence: json('evidence').$type<string[]>().notNull(),
    /** What the lines' units refund, in fen, fixed when the request is made (internal/aftersale/allocation.ts). */
    itemsAmount: money('items_amount').notNull(),
    /** The order's shipping fee, refunded with the request that leaves nothing of the order unrefunded. */
    shippingAmount: money('shipping_amount').notNull().default(0),
    refundId: id('refund_id'),
    /** The lost parcel this after-sale refunds (opened by an operator's loss report), or null. */
    shipmentId: id('shipment_id'),
    /**
     * Where the goods are: DELIVERED (the buyer has them), UNSHIPPED (never left: they go back to stock when
     * the refund starts) or LOST (a lost parcel's).
     */
    goods: varchar('goods', { length: 16 }).notNull().default('DELIVERED'),
    returnCarrier: varchar('return_carrier', { length: 32 }),
    returnTrackingNo: varchar('return_tracking_no', { length: 64 }),
    reviewNote: varchar('review_note', { length: 200 }).notNull().default(''),
    version: int('version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_after_sales_order_id').on(t.orderId, t.id), index('idx_after_sales_status_id').on(t.status, t.id)],
);

/** The order lines and units an after-sale covers, with what each line's units refund. */
export const afterSaleLines = mysqlTable(
  'after_sale_lines',
  {
    afterSaleId: id('after_sale_id').notNull(),
    orderItemId: id('order_item_id').notNull(),
    orderId: id('order_id').notNull(),
    quantity: int('quantity').notNull(),
    amount: money('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.afterSaleId, t.orderItemId] }), index('idx_after_sale_lines_order').on(t.orderId)],
);

/** One row per after-sale transition, written in the same transaction as the UPDATE. */
export const afterSaleLog = mysqlTable(
  'after_sale_log',
  {
    id: id('id').primaryKey(),
    afterSaleId: id('after_sale_id').notNull(),
    fromStatus: varchar('from_status', { length: 24 }),
    toStatus: varchar('to_status', { length: 24 }).notNull(),
    version: int('version').notNull(),
    actorType: varchar('actor_type', { length: 16 }).notNull(),
    actorId: varchar('actor_id', { length: 64 }).notNull().default(''),
    reason: varchar('reason', { length: 200 }).notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [index('idx_after_sale_log_after_sale').on(t.afterSaleId, t.id)],
);
