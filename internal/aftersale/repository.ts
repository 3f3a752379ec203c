import { and, asc, desc, eq, inArray, lt, notInArray } from 'drizzle-orm';
import { affectedRows, afterSaleLines, afterSaleLog, afterSales, type Db, selectSql, type Tx } from '../model/index.js';
import { type AfterSaleStatus, OPEN_STATUSES, RELEASED_STATUSES } from './rules.js';

export type AfterSaleRow = typeof afterSales.$inferSelect;
export type AfterSaleLineRow = typeof afterSaleLines.$inferSelect;
export type AfterSaleLogRow = typeof afterSaleLog.$inferSelect;

export async function getAfterSale(tx: Tx, id: bigint): Promise<AfterSaleRow | undefined> {
  const [row] = await tx.select().from(afterSales).where(eq(afterSales.id, id)).limit(1);
  return row;
}

export async function afterSalesOfOrder(tx: Tx, orderId: bigint): Promise<AfterSaleRow[]> {
  return tx.select().from(afterSales).where(eq(afterSales.orderId, orderId)).orderBy(asc(afterSales.id));
}

export async function linesOf(tx: Tx, afterSaleIds: bigint[]): Promise<AfterSaleLineRow[]> {
  if (afterSaleIds.length === 0) return [];
  return tx.select().from(afterSaleLines).where(inArray(afterSaleLines.afterSaleId, afterSaleIds));
}

export async function logOf(tx: Tx, afterSaleId: bigint): Promise<AfterSaleLogRow[]> {
  return tx.select().from(afterSaleLog).where(eq(afterSaleLog.afterSaleId, afterSaleId)).orderBy(asc(afterSaleLog.id));
}

/** The requests of an order that hold their units (all but REJECTED and CLOSED), with their lines. */
export async function liveOfOrder(tx: Tx, orderId: bigint) {
  const live = await tx
    .select()
    .from(afterSales)
    .where(and(eq(afterSales.orderId, orderId), notInArray(afterSales.status, [...RELEASED_STATUSES])));
  return {
    live,
    lines: await linesOf(
      tx,
      live.map((a) => a.id),
    ),
  };
}

export async function insertAfterSale(tx: Tx, row: typeof afterSales.$inferInsert, lines: AfterSaleLineRow[]) {
  await tx.insert(afterSales).values(row);
  await tx.insert(afterSaleLines).values(lines);
}

export async function insertAfterSaleLog(tx: Tx, rows: Array<typeof afterSaleLog.$inferInsert>) {
  if (rows.length > 0) await tx.insert(afterSaleLog).values(rows);
}

/** The conditional UPDATE every transition is: false when the request moved meanwhile. */
export async function updateAfterSaleIf(
  tx: Tx,
  id: bigint,
  expect: { status: string; version: number },
  set: Partial<AfterSaleRow>,
): Promise<boolean> {
  const res = await tx
    .update(afterSales)
    .set(set)
    .where(and(eq(afterSales.id, id), eq(afterSales.status, expect.status), eq(afterSales.version, expect.version)));
  return affectedRows(res) === 1;
}

/** A page of requests in one status, oldest first (the merchant's queue), or newest first when no status. */
export async function listAfterSales(
  db: Db,
  filter: { status?: AfterSaleStatus; beforeId?: bigint; limit: number },
): Promise<AfterSaleRow[]> {
  const where = and(
    filter.status ? eq(afterSales.status, filter.status) : undefined,
    filter.beforeId ? lt(afterSales.id, filter.beforeId) : undefined,
  );
  return db.select().from(afterSales).where(where).orderBy(desc(afterSales.id)).limit(filter.limit);
}

/** Per open state: how many, and since when the oldest has been in it (one range of the status index each). */
export async function openAfterSaleAges(db: Db, now: Date) {
  const rows = await selectSql<{ status: string; n: number | string; oldest: Date | null }>(
    db,
    'SELECT status, COUNT(*) AS n, MIN(updated_at) AS oldest FROM after_sales WHERE status IN (?) GROUP BY status',
    [[...OPEN_STATUSES]],
  );
  return OPEN_STATUSES.map((status) => {
    const r = rows.find((x) => x.status === status);
    const oldest = r?.oldest ? new Date(r.oldest) : null;
    return {
      status,
      count: Number(r?.n ?? 0),
      oldestSeconds: oldest ? Math.max(0, Math.round((now.getTime() - oldest.getTime()) / 1000)) : 0,
    };
  });
}

/** Approved returns not shipped back since `before` (the status index's APPROVED range, oldest first). */
export async function staleApprovedReturns(db: Db, before: Date, limit: number): Promise<bigint[]> {
  const rows = await selectSql<{ id: string }>(
    db,
    "SELECT id FROM after_sales WHERE status = 'APPROVED' AND kind = 'RETURN_AND_REFUND' AND updated_at < ? ORDER BY id LIMIT ?",
    [before, limit],
  );
  return rows.map((r) => BigInt(r.id));
}
