import { index, int, mysqlTable, primaryKey, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ts, updatedAt } from './columns.js';

/**
 * A parcel: some units of some lines of an order, sent with one carrier and tracking number. An order may
 * ship as several parcels (internal/delivery). Status: SHIPPED, DELIVERED or LOST.
 */
export const shipments = mysqlTable(
  'shipments',
  {
    id: id('id').primaryKey(),
    orderId: id('order_id').notNull(),
    carrier: varchar('carrier', { length: 32 }).notNull(),
    trackingNo: varchar('tracking_no', { length: 64 }).notNull(),
    status: varchar('status', { length: 16 }).notNull(),
    shippedAt: ts('shipped_at').notNull(),
    deliveredAt: ts('delivered_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('idx_shipments_order_id').on(t.orderId, t.id),
    uniqueIndex('uk_shipments_tracking').on(t.carrier, t.trackingNo),
  ],
);

/** The units of each order line a parcel carries. */
export const shipmentItems = mysqlTable(
  'shipment_items',
  {
    shipmentId: id('shipment_id').notNull(),
    orderItemId: id('order_item_id').notNull(),
    orderId: id('order_id').notNull(),
    quantity: int('quantity').notNull(),
  },
  (t) => [primaryKey({ columns: [t.shipmentId, t.orderItemId] }), index('idx_shipment_items_order').on(t.orderId)],
);
