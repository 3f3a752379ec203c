import { and, asc, desc, eq, gte, inArray, lt, lte, sql } from 'drizzle-orm';
import {
  affectedRows as affected,
  type Db,
  mqTxLog,
  orderItems,
  orderStatusLog,
  orders,
  skus,
  type Tx,
} from '../model/index.js';
import type { OrderStatus } from './rules.js';

export type { Tx };

export type OrderRow = typeof orders.$inferSelect;
export type OrderItemRow = typeof orderItems.$inferSelect;

export async function findSkus(tx: Tx, ids: bigint[]) {
  if (ids.length === 0) return [];
  return tx.select().from(skus).where(inArray(skus.id, ids));
}

/**
 * Moves each line's quantity from available to reserved, all lines in one UPDATE (rows locked in key
 * order), only if every SKU is on sale with enough available; false when any is not (nothing changes
 * then). One statement keeps a popular SKU's row lock held for as short as possible.
 */
export async function reserveStocks(tx: Tx, lines: Array<{ skuId: bigint; quantity: number }>): Promise<boolean> {
  const qty = sql`CASE ${skus.id} ${sql.join(
    lines.map((l) => sql`WHEN ${l.skuId} THEN ${l.quantity}`),
    sql` `,
  )} END`;
  const r = await tx
    .update(skus)
    .set({
      available: sql`${skus.available} - ${qty}`,
      reserved: sql`${skus.reserved} + ${qty}`,
      version: sql`${skus.version} + 1`,
    })
    .where(
      and(
        inArray(
          skus.id,
          lines.map((l) => l.skuId),
        ),
        sql`${skus.available} >= ${qty}`,
        eq(skus.status, 'ON_SALE'),
      ),
    );
  return affected(r) === lines.length;
}

/** reserved -> available (cancel before payment). */
export async function releaseStock(tx: Tx, skuId: bigint, qty: number): Promise<boolean> {
  const r = await tx
    .update(skus)
    .set({
      available: sql`${skus.available} + ${qty}`,
      reserved: sql`${skus.reserved} - ${qty}`,
      version: sql`${skus.version} + 1`,
    })
    .where(and(eq(skus.id, skuId), gte(skus.reserved, qty)));
  return affected(r) === 1;
}

/** reserved -> sold (payment). */
export async function commitStock(tx: Tx, skuId: bigint, qty: number): Promise<boolean> {
  const r = await tx
    .update(skus)
    .set({
      sold: sql`${skus.sold} + ${qty}`,
      reserved: sql`${skus.reserved} - ${qty}`,
      version: sql`${skus.version} + 1`,
    })
    .where(and(eq(skus.id, skuId), gte(skus.reserved, qty)));
  return affected(r) === 1;
}

/** sold -> available (refund of goods that never shipped). */
export async function restockSold(tx: Tx, skuId: bigint, qty: number): Promise<boolean> {
  const r = await tx
    .update(skus)
    .set({
      sold: sql`${skus.sold} - ${qty}`,
      available: sql`${skus.available} + ${qty}`,
      version: sql`${skus.version} + 1`,
    })
    .where(and(eq(skus.id, skuId), gte(skus.sold, qty)));
  return affected(r) === 1;
}

export async function getOrder(tx: Tx, id: bigint): Promise<OrderRow | undefined> {
  const [row] = await tx.select().from(orders).where(eq(orders.id, id)).limit(1);
  return row;
}

export async function getItems(tx: Tx, orderId: bigint): Promise<OrderItemRow[]> {
  return tx.select().from(orderItems).where(eq(orderItems.orderId, orderId)).orderBy(orderItems.id);
}

/** The items of several orders in one query, in item order. */
export async function getItemsOf(tx: Tx, orderIds: bigint[]): Promise<OrderItemRow[]> {
  if (orderIds.length === 0) return [];
  return tx.select().from(orderItems).where(inArray(orderItems.orderId, orderIds)).orderBy(orderItems.id);
}

export interface ListFilter {
  userId?: bigint;
  status?: OrderStatus;
  createdFrom?: Date;
  createdTo?: Date;
  /** Return orders with id below this (newest first). */
  beforeId?: bigint;
  limit: number;
}

export async function listOrders(tx: Tx, f: ListFilter): Promise<OrderRow[]> {
  const conds = [
    f.userId !== undefined ? eq(orders.userId, f.userId) : undefined,
    f.status ? eq(orders.status, f.status) : undefined,
    f.createdFrom ? gte(orders.createdAt, f.createdFrom) : undefined,
    f.createdTo ? lte(orders.createdAt, f.createdTo) : undefined,
    f.beforeId !== undefined ? lt(orders.id, f.beforeId) : undefined,
  ].filter((c) => c !== undefined);
  return tx
    .select()
    .from(orders)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(orders.id))
    .limit(f.limit);
}

/** The conditional UPDATE of every transition: only from the state and version we read. */
export async function updateOrderIf(
  tx: Tx,
  id: bigint,
  from: { status: OrderStatus; version: number },
  set: Partial<typeof orders.$inferInsert>,
): Promise<boolean> {
  const r = await tx
    .update(orders)
    .set({ ...set, version: from.version + 1 })
    .where(and(eq(orders.id, id), eq(orders.status, from.status), eq(orders.version, from.version)));
  return affected(r) === 1;
}

/** Sets columns of an order whose row this transaction already holds (after updateOrderIf). */
export async function setOrderColumns(tx: Tx, id: bigint, set: Partial<typeof orders.$inferInsert>) {
  await tx.update(orders).set(set).where(eq(orders.id, id));
}

export async function insertStatusLog(tx: Tx, row: typeof orderStatusLog.$inferInsert) {
  await tx.insert(orderStatusLog).values(row);
}

export async function insertTxLog(tx: Tx, rows: Array<typeof mqTxLog.$inferInsert>) {
  if (rows.length > 0) await tx.insert(mqTxLog).values(rows);
}

/** PENDING_PAYMENT orders whose deadline passed before `now`, oldest deadline first. */
export async function expiredPendingOrders(tx: Db, now: Date, limit: number): Promise<bigint[]> {
  const rows = await tx
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.status, 'PENDING_PAYMENT'), lt(orders.payDeadline, now)))
    .orderBy(asc(orders.payDeadline))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** How many PENDING_PAYMENT orders are past their deadline at `now`. */
export async function countExpiredPending(tx: Db, now: Date): Promise<number> {
  const [row] = await tx
    .select({ n: sql<string>`COUNT(*)` })
    .from(orders)
    .where(and(eq(orders.status, 'PENDING_PAYMENT'), lt(orders.payDeadline, now)));
  return Number(row?.n ?? 0);
}

/** DELIVERED orders delivered before `before`, oldest first. */
export async function deliveredBefore(tx: Db, before: Date, limit: number): Promise<bigint[]> {
  const rows = await tx
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.status, 'DELIVERED'), lt(orders.deliveredAt, before)))
    .orderBy(asc(orders.deliveredAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Multi-row inserts of new orders with their items and first status-log rows. */
export async function insertOrders(
  tx: Tx,
  created: Array<{ order: OrderRow; items: OrderItemRow[]; log: typeof orderStatusLog.$inferInsert }>,
) {
  if (created.length === 0) return;
  await tx.insert(orders).values(created.map((c) => c.order));
  await tx.insert(orderItems).values(created.flatMap((c) => c.items));
  await tx.insert(orderStatusLog).values(created.map((c) => c.log));
}
