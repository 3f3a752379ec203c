import { index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, money, updatedAt } from './columns.js';

/** Sellable units and their stock. available + reserved + sold is constant except for restocks. */
export const skus = mysqlTable(
  'skus',
  {
    id: id('id').primaryKey(),
    title: varchar('title', { length: 200 }).notNull(),
    price: money('price').notNull(),
    currency: varchar('currency', { length: 3 }).notNull().default('CNY'),
    available: int('available').notNull().default(0),
    reserved: int('reserved').notNull().default(0),
    sold: int('sold').notNull().default(0),
    status: varchar('status', { length: 16 }).notNull().default('ON_SALE'),
    version: int('version').notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('idx_skus_status').on(t.status)],
);
