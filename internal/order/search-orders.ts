import { and, desc, eq, gte, inArray, lte, type SQL, sql } from 'drizzle-orm';
import { AppError } from '../errorx/index.js';
import { EPOCH_MS } from '../ids/index.js';
import { type Db, orderColumns, orders, type Tx } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { decodeCursor, encodeCursor } from './list-orders.js';
import type { OrderSource } from './new-order.js';
import { getItemsOf, type OrderItemRow, type OrderRow } from './repository.js';
import type { OrderStatus } from './rules.js';

/** Operators' search: every filter optional, all of them combined with AND. */
export interface OrderSearch {
  orderNo?: string;
  userId?: bigint;
  /** The last four digits of the receiver's phone. */
  phoneLast4?: string;
  skuId?: bigint;
  status?: OrderStatus;
  /** Orders with at least one payment attempt in this status. */
  paymentStatus?: PaymentStatus;
  source?: OrderSource;
  createdFrom?: Date;
  createdTo?: Date;
  paidFrom?: Date;
  paidTo?: Date;
  /** total_amount in fen, inclusive. */
  amountMin?: number;
  amountMax?: number;
}

export const PAYMENT_STATUSES = ['PENDING', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/**
 * How many index entries one query reads at most. A page is read from one index in windows of this size
 * and may hold fewer orders than asked (even none) when the other filters match few: follow nextCursor
 * until it is null.
 */
export const SEARCH_WINDOW = 1000;
/** Windows one page reads at most. */
const WINDOWS_PER_PAGE = 5;
/** Index entries the summary reads at most; past it the summary says it is partial. */
export const SUMMARY_SCAN = 100_000;
/** An order's id carries its creation time; its created_at is written by the same process a moment later. */
const CLOCK_MARGIN_MS = 60_000;

/** The index that drives a search and its condition: the first filter that has one wins. */
interface Driver {
  /** The table with its index; candidate order ids come out of `idColumn`, newest first. */
  from: SQL;
  idColumn: SQL;
  where: SQL[];
  index: string;
}

function driverOf(f: OrderSearch): Driver {
  const onOrders = (index: string, where: SQL[] = []): Driver => ({
    from: sql.raw(`orders FORCE INDEX (${index})`),
    idColumn: sql.raw('id'),
    where,
    index,
  });
  if (f.orderNo !== undefined) return onOrders('PRIMARY', [sql`id = ${idOfOrderNo(f.orderNo)}`]);
  if (f.userId !== undefined) return onOrders('idx_orders_user_id', [sql`user_id = ${f.userId}`]);
  if (f.phoneLast4 !== undefined) return onOrders('idx_orders_phone_last4_id', [sql`phone_last4 = ${f.phoneLast4}`]);
  if (f.skuId !== undefined) {
    return {
      from: sql.raw('order_items FORCE INDEX (idx_order_items_sku_order)'),
      idColumn: sql.raw('order_id'),
      where: [sql`sku_id = ${f.skuId}`],
      index: 'idx_order_items_sku_order',
    };
  }
  if (f.status !== undefined) return onOrders('idx_orders_status_id', [sql`status = ${f.status}`]);
  if (f.source !== undefined) return onOrders('idx_orders_source_id', [sql`source = ${f.source}`]);
  return onOrders('PRIMARY');
}

/** The id range the filters allow: ids are time-ordered, and an order is paid after it is created. */
function idRange(f: OrderSearch): { from?: bigint; to?: bigint } {
  const to = [f.createdTo, f.paidTo].filter((d) => d !== undefined).map((d) => d.getTime());
  return {
    from: f.createdFrom && idAt(f.createdFrom.getTime() - CLOCK_MARGIN_MS, 0n),
    to: to.length ? idAt(Math.min(...to) + CLOCK_MARGIN_MS, (1n << 22n) - 1n) : undefined,
  };
}

const idAt = (ms: number, low: bigint) => (BigInt(Math.max(0, ms - EPOCH_MS)) << 22n) | low;

/** Every filter, checked on the order row (the driver's own included: cheap once the row is read). */
function rowFilter(f: OrderSearch): SQL[] {
  const conds: Array<SQL | undefined> = [
    f.userId !== undefined ? eq(orders.userId, f.userId) : undefined,
    f.phoneLast4 !== undefined ? eq(orders.phoneLast4, f.phoneLast4) : undefined,
    f.status !== undefined ? eq(orders.status, f.status) : undefined,
    f.source !== undefined ? eq(orders.source, f.source) : undefined,
    f.createdFrom ? gte(orders.createdAt, f.createdFrom) : undefined,
    f.createdTo ? lte(orders.createdAt, f.createdTo) : undefined,
    f.paidFrom ? gte(orders.paidAt, f.paidFrom) : undefined,
    f.paidTo ? lte(orders.paidAt, f.paidTo) : undefined,
    f.amountMin !== undefined ? gte(orders.totalAmount, f.amountMin) : undefined,
    f.amountMax !== undefined ? lte(orders.totalAmount, f.amountMax) : undefined,
    // Scalar subqueries, not EXISTS: both servers may turn an EXISTS into a semi-join driven from the
    // other table (every SUCCEEDED payment, say), which no longer reads only the candidates.
    f.skuId !== undefined
      ? sql`(SELECT 1 FROM order_items i WHERE i.order_id = ${orders.id} AND i.sku_id = ${f.skuId} LIMIT 1) IS NOT NULL`
      : undefined,
    f.paymentStatus !== undefined
      ? sql`(SELECT 1 FROM payments p WHERE p.order_id = ${orders.id} AND p.status = ${f.paymentStatus} LIMIT 1) IS NOT NULL`
      : undefined,
  ];
  return conds.filter((c) => c !== undefined);
}

/** `QF` and the id, as orderNoOf writes it. */
function idOfOrderNo(orderNo: string): bigint {
  const m = /^QF(\d{19})$/.exec(orderNo);
  if (!m?.[1]) throw new AppError('VALIDATION_FAILED', 'orderNo is QF followed by 19 digits');
  return BigInt(m[1]);
}

export function validateSearch(f: OrderSearch): void {
  const pairs: Array<[string, number | undefined, number | undefined]> = [
    ['createdFrom', f.createdFrom?.getTime(), f.createdTo?.getTime()],
    ['paidFrom', f.paidFrom?.getTime(), f.paidTo?.getTime()],
    ['amountMin', f.amountMin, f.amountMax],
  ];
  for (const [name, lo, hi] of pairs) {
    if (lo !== undefined && hi !== undefined && lo > hi) {
      throw new AppError('VALIDATION_FAILED', `${name} is above its upper bound`);
    }
  }
  if (f.phoneLast4 !== undefined && !/^\d{4}$/.test(f.phoneLast4)) {
    throw new AppError('VALIDATION_FAILED', 'phoneLast4 is four digits');
  }
  if (f.orderNo !== undefined) idOfOrderNo(f.orderNo);
}

/** The statement that reads one window of candidate ids: one range of one index, newest first. */
export function candidatesSql(
  f: OrderSearch,
  beforeId: bigint | undefined,
  window: number,
): { sql: SQL; index: string } {
  const d = driverOf(f);
  const { from, to } = idRange(f);
  const where = [
    ...d.where,
    beforeId !== undefined ? sql`${d.idColumn} < ${beforeId}` : undefined,
    from !== undefined ? sql`${d.idColumn} >= ${from}` : undefined,
    to !== undefined ? sql`${d.idColumn} <= ${to}` : undefined,
  ].filter((c) => c !== undefined);
  const cond = where.length ? sql.join(where, sql` AND `) : sql`TRUE`;
  return {
    sql: sql`SELECT ${d.idColumn} AS id FROM ${d.from} WHERE ${cond} ORDER BY ${d.idColumn} DESC LIMIT ${sql.raw(String(window))}`,
    index: d.index,
  };
}

/** The matching orders among candidate ids, read by primary key. */
export const matchesQuery = (tx: Tx, f: OrderSearch, ids: bigint[], limit: number) =>
  (tx as Db)
    .select(orderColumns)
    // By primary key only: left to itself, the optimizer may scan a status or date index instead.
    .from(orders, { forceIndex: 'PRIMARY' })
    .where(and(inArray(orders.id, ids), ...rowFilter(f)))
    .orderBy(desc(orders.id))
    .limit(limit);

export interface SearchPage {
  orders: OrderRow[];
  items: OrderItemRow[];
  nextCursor: string | null;
}

/**
 * One page of an operator's search, newest first. Each statement reads one bounded range of one index
 * (the first filter of: order number, buyer, phone digits, SKU, status, source; else the primary key,
 * within the id range the times allow) and the matching rows by primary key.
 */
export async function searchOrders(
  ctx: ServiceContext,
  f: OrderSearch,
  page: { cursor?: string; limit?: number } = {},
): Promise<SearchPage> {
  validateSearch(f);
  const limit = page.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new AppError('VALIDATION_FAILED', 'limit must be an integer from 1 to 500');
  }
  let beforeId = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const found: OrderRow[] = [];
  for (let w = 0; w < WINDOWS_PER_PAGE; w++) {
    const { ids, matches, last } = await readWindow(ctx.db, f, beforeId, limit - found.length + 1);
    found.push(...matches);
    if (found.length > limit) {
      const orders = found.slice(0, limit);
      return withItems(ctx.db, orders, encodeCursor((orders.at(-1) as OrderRow).id));
    }
    if (ids < SEARCH_WINDOW || last === undefined) return withItems(ctx.db, found, null);
    beforeId = last;
  }
  return withItems(ctx.db, found, beforeId === undefined ? null : encodeCursor(beforeId));
}

async function readWindow(tx: Tx, f: OrderSearch, beforeId: bigint | undefined, want: number) {
  const rows = await rowsOf<{ id: string | number | bigint }>(tx, candidatesSql(f, beforeId, SEARCH_WINDOW).sql);
  const ids = [...new Set(rows.map((r) => BigInt(r.id)))];
  if (ids.length === 0) return { ids: rows.length, matches: [] as OrderRow[], last: undefined };
  return { ids: rows.length, matches: await matchesQuery(tx, f, ids, want), last: ids.at(-1) };
}

/** Rows of a plain statement built with drizzle's sql (mysql2 answers [rows, fields]). */
async function rowsOf<Row>(tx: Tx, statement: SQL): Promise<Row[]> {
  const [rows] = (await tx.execute(statement)) as unknown as [Row[]];
  return rows;
}

async function withItems(tx: Tx, orders: OrderRow[], nextCursor: string | null): Promise<SearchPage> {
  const items = await getItemsOf(
    tx,
    orders.map((o) => o.id),
  );
  return { orders, items, nextCursor };
}

export interface SearchSummary {
  /** Orders matching, and their total_amount (fen), per status. */
  byStatus: Partial<Record<OrderStatus, { count: number; amount: number }>>;
  count: number;
  amount: number;
  /** False when the driving index had more than SUMMARY_SCAN entries in range: the numbers cover the newest. */
  complete: boolean;
}

/** Counts and amounts for a search, over at most SUMMARY_SCAN entries of its index (newest first). */
export async function summarizeSearch(ctx: ServiceContext, f: OrderSearch): Promise<SearchSummary> {
  validateSearch(f);
  const c = candidatesSql(f, undefined, SUMMARY_SCAN + 1).sql;
  const rows = await ctx.db
    .select({ status: orders.status, n: sql<string>`COUNT(*)`, amount: sql<string>`SUM(${orders.totalAmount})` })
    .from(orders, { forceIndex: 'PRIMARY' })
    .where(and(inArray(orders.id, sql`(SELECT DISTINCT id FROM (${c}) c)`), ...rowFilter(f)))
    .groupBy(orders.status);
  const [scanned] = await rowsOf<{ n: string | number }>(ctx.db, sql`SELECT COUNT(*) AS n FROM (${c}) c`);
  const summary: SearchSummary = {
    byStatus: {},
    count: 0,
    amount: 0,
    complete: Number(scanned?.n ?? 0) <= SUMMARY_SCAN,
  };
  for (const row of rows) {
    const n = Number(row.n);
    const amount = Number(row.amount ?? 0);
    summary.byStatus[row.status as OrderStatus] = { count: n, amount };
    summary.count += n;
    summary.amount += amount;
  }
  return summary;
}
