import { index, int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, updatedAt } from './columns.js';

/**
 * A flash-sale purchase once the consumer has handled it (queued tickets live in Redis until then).
 * One row per ticket: its id makes a redelivered batch create nothing twice.
 * status: ORDERED (order_id set) | FAILED (failure_reason set) | RETURNED (the order was cancelled and
 * its units went back to the sale).
 */
export const flashSaleTickets = mysqlTable(
  'flash_sale_tickets',
  {
    id: id('id').primaryKey(),
    saleId: id('sale_id').notNull(),
    userId: id('user_id').notNull(),
    quantity: int('quantity').notNull(),
    status: varchar('status', { length: 16 }).notNull(),
    orderId: id('order_id'),
    failureReason: varchar('failure_reason', { length: 200 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_flash_sale_tickets_sale').on(t.saleId, t.status),
    index('idx_flash_sale_tickets_order').on(t.orderId),
  ],
);
