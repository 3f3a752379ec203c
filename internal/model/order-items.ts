import { index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money } from './columns.js';

/** What was bought, as it was when bought: title and price are copied from the SKU at create time. */
export const orderItems = mysqlTable(
  'order_items',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    skuId: id('sku_id').notNull(),
    title: varchar('title', { length: 200 }).notNull(),
    unitPrice: money('unit_price').notNull(),
    quantity: int('quantity').notNull(),
    lineTotal: money('line_total').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('idx_order_items_order_id').on(t.orderId), index('idx_order_items_sku_order').on(t.skuId, t.orderId)],
);
