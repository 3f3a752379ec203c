import { and, asc, desc, eq, gt, gte, inArray, lt, lte, or, sql } from 'drizzle-orm';
import {
  affectedRows as affected,
  type Db,
  executeSql,
  type mqTxLog,
  orderColumns,
  orderHidden,
  orderItems,
  orderStatusLog,
  orders,
  selectSql,
  skus,
  type Tx,
} from '../model/index.js';
import type { OrderStatus } from './rules.js';

export type { Tx };

/** An order row; `phoneLast4` is computed by MySQL for search and never written. */
export type OrderRow = Omit<typeof orders.$inferSelect, 'phoneLast4'>;
export type OrderItemRow = typeof orderItems.$inferSelect;

/** What an order needs of a SKU: its title, price and currency, whether it is on sale, and its stock. */
export interface SkuOffer {
  id: bigint;
  title: string;
  price: number;
  currency: string;
  status: string;
  available: number;
}

/** The SKUs with these ids (plain SQL: every create reads them). */
export async function findSkus(tx: Tx, ids: bigint[]): Promise<SkuOffer[]> {
  if (ids.length === 0) return [];
  const rows = await selectSql<Omit<SkuOffer, 'id' | 'price'> & { id: string; price: string }>(
    tx,
    'SELECT id, title, price, currency, status, available FROM skus WHERE id IN (?)',
    [ids],
  );
  return rows.map((r) => ({ ...r, id: BigInt(r.id), price: Number(r.price) }));
}

/** What a buyer holds unpaid: PENDING_PAYMENT orders and the units reserved by them (plain SQL: every create). */
export async function pendingOfUser(db: Tx, userId: bigint): Promise<{ orders: number; units: number }> {
  const [row] = await selectSql<{ orders: number | string; units: number | string | null }>(
    db,
    "SELECT COUNT(DISTINCT o.id) AS orders, SUM(i.quantity) AS units FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.user_id = ? AND o.status = 'PENDING_PAYMENT'",
    [userId],
  );
  return { orders: Number(row?.orders ?? 0), units: Number(row?.units ?? 0) };
}

/**
 * Moves each line's quantity from available to reserved, all lines in one UPDATE (rows locked in key
 * order), only if every SKU is on sale with enough available; false when any is not (nothing changes
 * then). One statement keeps a popular SKU's row lock held for as short as possible.
 */
export async function reserveStocks(tx: Tx, lines: Array<{ skuId: bigint; quantity: number }>): Promise<boolean> {
  const qty = `CASE id ${lines.map(() => 'WHEN ? THEN ?').join(' ')} END`;
  const cases = lines.flatMap((l) => [l.skuId, l.quantity]);
  const ids = lines.map((l) => l.skuId);
  const r = await executeSql(
    tx,
    `UPDATE skus SET available = available - ${qty}, reserved = reserved + ${qty}, version = version + 1
      WHERE id IN (?) AND available >= ${qty} AND status = 'ON_SALE'`,
    [...cases, ...cases, ids, ...cases],
  );
  return r.affectedRows === lines.length;
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
  const [row] = await (tx as Db).select(orderColumns).from(orders).where(eq(orders.id, id)).limit(1);
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
  /** The buyer's hidden orders: left out, or the only ones listed; absent, hiding does not matter. */
  hidden?: 'exclude' | 'only';
  limit: number;
}

export async function listOrders(tx: Tx, f: ListFilter): Promise<OrderRow[]> {
  const conds = [
    f.userId !== undefined ? eq(orders.userId, f.userId) : undefined,
    f.status ? eq(orders.status, f.status) : undefined,
    f.createdFrom ? gte(orders.createdAt, f.createdFrom) : undefined,
    f.createdTo ? lte(orders.createdAt, f.createdTo) : undefined,
    f.beforeId !== undefined ? lt(orders.id, f.beforeId) : undefined,
    f.hidden === undefined ? undefined : f.hidden === 'only' ? sql`EXISTS (${HIDDEN})` : sql`NOT EXISTS (${HIDDEN})`,
  ].filter((c) => c !== undefined);
  return (tx as Db)
    .select(orderColumns)
    .from(orders)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(orders.id))
    .limit(f.limit);
}

const HIDDEN = sql.raw('SELECT 1 FROM `order_hidden` h WHERE h.order_id = `orders`.`id`');

/** A buyer's orders per status, hidden ones left out (one range of idx_orders_user_status). */
export async function countOrdersByStatus(tx: Tx, userId: bigint): Promise<Array<{ status: string; n: number }>> {
  const rows = await selectSql<{ status: string; n: string | number }>(
    tx,
    'SELECT status, COUNT(*) AS n FROM orders WHERE user_id = ? AND NOT EXISTS (SELECT 1 FROM order_hidden h WHERE h.order_id = orders.id) GROUP BY status',
    [userId],
  );
  return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
}

/** Hides (or shows again) a buyer's order in their list; true when this call changed it. */
export async function setOrderHidden(tx: Tx, orderId: bigint, userId: bigint, hidden: boolean): Promise<boolean> {
  if (!hidden) return affected(await tx.delete(orderHidden).where(eq(orderHidden.orderId, orderId))) === 1;
  const r = await executeSql(tx, 'INSERT IGNORE INTO order_hidden (order_id, user_id, hidden_at) VALUES (?, ?, ?)', [
    orderId,
    userId,
    new Date(),
  ]);
  return r.affectedRows === 1;
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
  if (rows.length === 0) return;
  await executeSql(tx, 'INSERT INTO mq_tx_log (id, event_id, topic, event_type, message_key, payload) VALUES ?', [
    rows.map((r) => [r.id, r.eventId, r.topic, r.eventType, r.messageKey, JSON.stringify(r.payload)]),
  ]);
}

/** PENDING_PAYMENT orders whose deadline passed before `now`, oldest deadline first. */
/** A page of PENDING_PAYMENT orders past their deadline, oldest deadline first, after `after` (keyset). */
export async function expiredPendingOrders(
  tx: Db,
  now: Date,
  limit: number,
  after?: { payDeadline: Date; id: bigint },
): Promise<Array<{ id: bigint; payDeadline: Date }>> {
  return tx
    .select({ id: orders.id, payDeadline: orders.payDeadline })
    .from(orders)
    .where(
      and(
        eq(orders.status, 'PENDING_PAYMENT'),
        lt(orders.payDeadline, now),
        after === undefined
          ? undefined
          : or(
              gt(orders.payDeadline, after.payDeadline),
              and(eq(orders.payDeadline, after.payDeadline), gt(orders.id, after.id)),
            ),
      ),
    )
    .orderBy(asc(orders.payDeadline), asc(orders.id))
    .limit(limit);
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

/** SHIPPED orders whose last parcel left before `before` (no delivery signal since), oldest first. */
export async function shippedBefore(tx: Db, before: Date, limit: number): Promise<bigint[]> {
  const rows = await tx
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.status, 'SHIPPED'), lt(orders.shippedAt, before)))
    .orderBy(asc(orders.shippedAt))
    .limit(limit);
  return rows.map((r) => r.id);
}

/** Multi-row inserts of new orders with their items and first status-log rows (plain SQL: every create runs them). */
export async function insertOrders(
  tx: Tx,
  created: Array<{ order: OrderRow; items: OrderItemRow[]; log: typeof orderStatusLog.$inferInsert }>,
) {
  if (created.length === 0) return;
  await executeSql(
    tx,
    `INSERT INTO orders (id, order_no, user_id, status, currency, items_amount, shipping_fee, discount_amount,
      total_amount, paid_amount, refunded_amount, address, note, source, version, pay_deadline, paid_at, shipped_at,
      delivered_at, completed_at, cancelled_at, cancel_reason, created_at, updated_at) VALUES ?`,
    [
      created.map(({ order: o }) => [
        o.id,
        o.orderNo,
        o.userId,
        o.status,
        o.currency,
        o.itemsAmount,
        o.shippingFee,
        o.discountAmount,
        o.totalAmount,
        o.paidAmount,
        o.refundedAmount,
        JSON.stringify(o.address),
        o.note,
        o.source,
        o.version,
        o.payDeadline,
        o.paidAt,
        o.shippedAt,
        o.deliveredAt,
        o.completedAt,
        o.cancelledAt,
        o.cancelReason,
        o.createdAt,
        o.updatedAt,
      ]),
    ],
  );
  await executeSql(
    tx,
    'INSERT INTO order_items (id, order_id, sku_id, title, unit_price, quantity, line_total, created_at) VALUES ?',
    [
      created.flatMap((c) =>
        c.items.map((i) => [i.id, i.orderId, i.skuId, i.title, i.unitPrice, i.quantity, i.lineTotal, i.createdAt]),
      ),
    ],
  );
  await executeSql(
    tx,
    'INSERT INTO order_status_log (id, order_id, from_status, to_status, version, actor_type, actor_id, reason) VALUES ?',
    [
      created.map(({ log: l }) => [
        l.id,
        l.orderId,
        l.fromStatus,
        l.toStatus,
        l.version,
        l.actorType,
        l.actorId ?? '',
        l.reason ?? '',
      ]),
    ],
  );
}
