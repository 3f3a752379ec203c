import { index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money, ts, updatedAt } from './columns.js';

/** A flash sale of one SKU at a fixed price; its stock is pre-deducted in Redis and reconciled by a job. */
export const flashSales = mysqlTable(
  'flash_sales',
  {
    id: id('id').primaryKey(),
    skuId: id('sku_id').notNull(),
    title: varchar('title', { length: 200 }).notNull(),
    price: money('price').notNull(),
    stock: int('stock').notNull(),
    sold: int('sold').notNull().default(0),
    perUserLimit: int('per_user_limit').notNull().default(1),
    status: varchar('status', { length: 16 }).notNull(),
    startsAt: ts('starts_at').notNull(),
    endsAt: ts('ends_at').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_flash_sales_sku_id').on(t.skuId), index('idx_flash_sales_window').on(t.status, t.startsAt)],
);
