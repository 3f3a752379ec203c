import { asc, eq } from 'drizzle-orm';
import { AppError } from '../errorx/index.js';
import { mqTxLog, orderColumns, orderItems, orderNotes, orderStatusLog, orders, shipments } from '../model/index.js';
import { paymentsOfOrder, refundsOfOrder } from '../payment/index.js';
import type { ServiceContext } from '../svc/index.js';

/** Everything about one order, for `qianfan-order order show`: straight from MySQL, never the cache. */
export async function orderDossier(ctx: ServiceContext, orderId: bigint) {
  const [order] = await ctx.db.select(orderColumns).from(orders).where(eq(orders.id, orderId));
  if (!order) throw new AppError('ORDER_NOT_FOUND', `order ${orderId} not found`);
  const [items, payments, refunds, ships, history, events, notes] = await Promise.all([
    ctx.db.select().from(orderItems).where(eq(orderItems.orderId, orderId)).orderBy(asc(orderItems.id)),
    paymentsOfOrder(ctx.db, orderId),
    refundsOfOrder(ctx.db, orderId),
    ctx.db.select().from(shipments).where(eq(shipments.orderId, orderId)),
    ctx.db.select().from(orderStatusLog).where(eq(orderStatusLog.orderId, orderId)).orderBy(asc(orderStatusLog.id)),
    ctx.db
      .select()
      .from(mqTxLog)
      .where(eq(mqTxLog.messageKey, String(orderId)))
      .orderBy(asc(mqTxLog.id)),
    ctx.db.select().from(orderNotes).where(eq(orderNotes.orderId, orderId)).orderBy(asc(orderNotes.id)),
  ]);
  return { order, items, payments, refunds, shipments: ships, history, events, notes };
}

/** Orders of a user (newest first), or the order with an order number. */
export async function findOrders(ctx: ServiceContext, by: { userId?: bigint; orderNo?: string; limit?: number }) {
  const where = by.orderNo !== undefined ? eq(orders.orderNo, by.orderNo) : eq(orders.userId, by.userId ?? 0n);
  return ctx.db
    .select(orderColumns)
    .from(orders)
    .where(where)
    .orderBy(asc(orders.id))
    .limit(by.limit ?? 100);
}
