import { index, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id } from './columns.js';

/** Internal notes on an order by staff: append-only, each with its author and time; never shown to the buyer. */
export const orderNotes = mysqlTable(
  'order_notes',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    /** The staff member's user id (the token's subject). */
    authorId: varchar('author_id', { length: 64 }).notNull(),
    body: varchar('body', { length: 2000 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('idx_order_notes_order').on(t.orderId, t.id)],
);
