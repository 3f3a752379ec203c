import { and, eq, gt, gte, sql } from 'drizzle-orm';
import {
  affectedRows,
  type Db,
  executeSql,
  flashSales,
  flashSaleTickets,
  selectSql,
  skus,
  type Tx,
} from '../model/index.js';

export type SaleRow = typeof flashSales.$inferSelect;
export type TicketRow = typeof flashSaleTickets.$inferSelect;

export async function getSale(tx: Tx, id: bigint): Promise<SaleRow | undefined> {
  const [row] = await tx.select().from(flashSales).where(eq(flashSales.id, id)).limit(1);
  return row;
}

export async function insertSale(tx: Tx, row: typeof flashSales.$inferInsert) {
  await tx.insert(flashSales).values(row);
}

/** Moves `qty` units from the SKU's available stock into a sale; false when the SKU has fewer. */
export async function takeFromSku(tx: Tx, skuId: bigint, qty: number): Promise<boolean> {
  const r = await tx
    .update(skus)
    .set({ available: sql`${skus.available} - ${qty}`, version: sql`${skus.version} + 1` })
    .where(and(eq(skus.id, skuId), gte(skus.available, qty), eq(skus.status, 'ON_SALE')));
  return affectedRows(r) === 1;
}

/** Units of a sale become orders: the sale's sold count grows (never past its stock) and the SKU reserves them. */
export async function sellUnits(tx: Tx, sale: SaleRow, qty: number): Promise<boolean> {
  const r = await tx
    .update(flashSales)
    .set({ sold: sql`${flashSales.sold} + ${qty}` })
    .where(and(eq(flashSales.id, sale.id), sql`${flashSales.sold} + ${qty} <= ${flashSales.stock}`));
  if (affectedRows(r) !== 1) return false;
  await tx
    .update(skus)
    .set({ reserved: sql`${skus.reserved} + ${qty}`, version: sql`${skus.version} + 1` })
    .where(eq(skus.id, sale.skuId));
  return true;
}

/**
 * A cancelled order's units go back to the sale: out of the SKU's available stock (where the cancel put
 * them) into the sale's pool. When the SKU no longer has them, the sale shrinks instead. Returns whether
 * the units went back to the sale.
 */
export async function returnUnits(tx: Tx, sale: SaleRow, qty: number): Promise<boolean> {
  const back = await takeFromSku(tx, sale.skuId, qty);
  await tx
    .update(flashSales)
    .set(
      back
        ? { sold: sql`${flashSales.sold} - ${qty}` }
        : { sold: sql`${flashSales.sold} - ${qty}`, stock: sql`${flashSales.stock} - ${qty}` },
    )
    .where(eq(flashSales.id, sale.id));
  return back;
}

/** Plain SQL (every batch runs it with up to 1,000 ids): see internal/model/plain-sql.ts. */
export async function ticketsByIds(tx: Tx, ids: bigint[]): Promise<TicketRow[]> {
  if (ids.length === 0) return [];
  const rows = await selectSql<RawTicket>(
    tx,
    `SELECT id, sale_id, user_id, quantity, status, order_id, failure_reason, created_at, updated_at
       FROM flash_sale_tickets WHERE id IN (?)`,
    [ids],
  );
  return rows.map((r) => ({
    id: BigInt(r.id),
    saleId: BigInt(r.sale_id),
    userId: BigInt(r.user_id),
    quantity: r.quantity,
    status: r.status,
    orderId: r.order_id === null ? null : BigInt(r.order_id),
    failureReason: r.failure_reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

interface RawTicket {
  id: string;
  sale_id: string;
  user_id: string;
  quantity: number;
  status: string;
  order_id: string | null;
  failure_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

/** One multi-row INSERT in plain SQL (a batch's tickets). */
export async function insertTickets(tx: Tx, rows: TicketRow[]) {
  if (rows.length === 0) return;
  await executeSql(
    tx,
    `INSERT INTO flash_sale_tickets
       (id, sale_id, user_id, quantity, status, order_id, failure_reason, created_at, updated_at) VALUES ?`,
    [
      rows.map((r) => [
        r.id,
        r.saleId,
        r.userId,
        r.quantity,
        r.status,
        r.orderId,
        r.failureReason,
        r.createdAt,
        r.updatedAt,
      ]),
    ],
  );
}

export async function ticketOfOrder(tx: Tx, orderId: bigint): Promise<TicketRow | undefined> {
  const [row] = await tx.select().from(flashSaleTickets).where(eq(flashSaleTickets.orderId, orderId)).limit(1);
  return row;
}

/** ORDERED -> RETURNED (units back to the sale) or RELEASED (units stayed with the SKU). */
export async function closeTicket(tx: Tx, id: bigint, status: 'RETURNED' | 'RELEASED'): Promise<boolean> {
  const r = await tx
    .update(flashSaleTickets)
    .set({ status })
    .where(and(eq(flashSaleTickets.id, id), eq(flashSaleTickets.status, 'ORDERED')));
  return affectedRows(r) === 1;
}

/** Units and tickets per status of one sale. */
export async function ticketTotals(db: Db, saleId: bigint) {
  const rows = await db
    .select({
      status: flashSaleTickets.status,
      tickets: sql<string>`COUNT(*)`,
      units: sql<string>`COALESCE(SUM(${flashSaleTickets.quantity}), 0)`,
    })
    .from(flashSaleTickets)
    .where(eq(flashSaleTickets.saleId, saleId))
    .groupBy(flashSaleTickets.status);
  const out: Record<string, { tickets: number; units: number }> = {};
  for (const r of rows) out[r.status] = { tickets: Number(r.tickets), units: Number(r.units) };
  return out;
}

/** Sales that may still have queued tickets: not ended more than `graceMs` ago. */
export async function recentSales(db: Db, now: Date, graceMs: number): Promise<SaleRow[]> {
  return db
    .select()
    .from(flashSales)
    .where(gt(flashSales.endsAt, new Date(now.getTime() - graceMs)))
    .limit(1000);
}
