import { index, mysqlTable } from 'drizzle-orm/mysql-core';
import { id, ts } from './columns.js';

/**
 * Finished orders a buyer has hidden from their own list and counts. Apart from the order row, so hiding
 * changes no order version and no cached order; admins and the order's own read still see the order.
 */
export const orderHidden = mysqlTable(
  'order_hidden',
  {
    orderId: id('order_id').primaryKey(),
    userId: id('user_id').notNull(),
    hiddenAt: ts('hidden_at').notNull(),
  },
  (t) => [index('idx_order_hidden_user').on(t.userId)],
);
