import { selectSql } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';

/** The invariants the audit checks; each finding names one. */
export const AUDIT_CHECKS = [
  'transitions form one line',
  'one event per transition',
  'paid amount = kept payments',
  'refunded amount = succeeded refunds',
  'never refunded more than paid',
  'a REFUNDED order got all its money back',
  'an unkept payment is refunded in full',
  'a refunded payment got its refunds',
  'no order pending past its deadline',
  'stock never negative',
  'reserved = units of pending orders',
  'flash sale never oversold',
  'flash sale Redis agrees with MySQL',
] as const;

export type AuditCheck = (typeof AUDIT_CHECKS)[number];

export interface Finding {
  check: AuditCheck;
  /** The rows involved: order, payment, SKU or sale ids (an order's transition as `<orderId>/<version>`). */
  ids: string[];
  detail: string;
}

export interface AuditBounds {
  /** Rows newer than this are skipped by the checks that a change still in flight could fail. */
  settledBefore: Date;
  /** Transitions older than this are not checked for their event: cleanup-expired deletes tx-log rows. */
  eventsSince: Date;
}

/** The audit's reads of one slice: each a range of a primary key or of an index (test/audit.test.ts EXPLAINs them). */
export const SLICE_SQL = {
  orders: `SELECT id, status, version, paid_amount, refunded_amount, pay_deadline, updated_at
     FROM orders WHERE id > ? ORDER BY id LIMIT ?`,
  statusLog:
    'SELECT order_id, version, from_status, to_status, created_at FROM order_status_log WHERE order_id IN (?) ORDER BY order_id, version, id',
  txLog:
    "SELECT message_key, event_type, payload FROM mq_tx_log WHERE message_key IN (?) AND event_type LIKE 'order.%'",
  payments: 'SELECT id, order_id, amount, status, succeeded_order_id, updated_at FROM payments WHERE order_id IN (?)',
  refunds: 'SELECT order_id, payment_id, kind, amount, status FROM refunds WHERE order_id IN (?)',
  // Pending units come from the pending orders (the status index: at most a payment timeout's worth of
  // orders), not from each SKU's items (all its sales ever); one statement, so one snapshot of both. The
  // join order and indexes are fixed: left to itself, the optimizer may read every order line instead.
  skus: `SELECT s.id, s.available, s.reserved, s.sold, COALESCE(p.pending, 0) AS pending
     FROM skus s LEFT JOIN (
       SELECT i.sku_id, SUM(i.quantity) AS pending
       FROM orders o FORCE INDEX (idx_orders_status_id)
       STRAIGHT_JOIN order_items i FORCE INDEX (idx_order_items_order_id) ON i.order_id = o.id
       WHERE o.status = 'PENDING_PAYMENT' GROUP BY i.sku_id) p ON p.sku_id = s.id
     WHERE s.id > ? ORDER BY s.id LIMIT ?`,
} as const;

type Report = (check: AuditCheck, ids: unknown[], detail: string) => void;

/** Plain read on the pool: the audit only reads, and every query is a bounded range of one slice. */
const read = <T>(ctx: ServiceContext, sql: string, values: unknown[]) => selectSql<T>(ctx.db, sql, values);

interface OrderRow {
  id: string;
  status: string;
  version: number;
  paid_amount: number;
  refunded_amount: number;
  pay_deadline: Date;
  updated_at: Date;
}

/**
 * The order checks for the orders with ids in (afterId, lastId]: the status log, the tx-log, payments and
 * refunds of those orders are read by their order-id indexes, one query per table.
 */
export async function checkOrders(
  ctx: ServiceContext,
  orders: OrderRow[],
  bounds: AuditBounds,
  bad: Report,
): Promise<void> {
  if (orders.length === 0) return;
  const ids = orders.map((o) => o.id);
  const settled = orders.filter((o) => o.updated_at < bounds.settledBefore);
  const [log, events, payments, refunds] = await Promise.all([
    read<{ order_id: string; version: number; from_status: string; to_status: string; created_at: Date }>(
      ctx,
      SLICE_SQL.statusLog,
      [ids],
    ),
    read<{ message_key: string; event_type: string; payload: string | Record<string, unknown> }>(ctx, SLICE_SQL.txLog, [
      ids,
    ]),
    read<{
      id: string;
      order_id: string;
      amount: number;
      status: string;
      succeeded_order_id: string | null;
      updated_at: Date;
    }>(ctx, SLICE_SQL.payments, [ids]),
    read<{ order_id: string; payment_id: string; kind: string; amount: number; status: string }>(
      ctx,
      SLICE_SQL.refunds,
      [ids],
    ),
  ]);
  const byOrder = <T extends { order_id: string }>(rows: T[]) => {
    const m = new Map<string, T[]>();
    for (const r of rows) m.set(String(r.order_id), [...(m.get(String(r.order_id)) ?? []), r]);
    return m;
  };
  const logs = byOrder(log);
  const pays = byOrder(payments);
  const refs = byOrder(refunds);
  const eventCount = new Map<string, number>();
  for (const e of events) {
    const data = typeof e.payload === 'string' ? (JSON.parse(e.payload) as Record<string, unknown>) : e.payload;
    if (typeof data.version !== 'number') continue; // a batch's own row: its events have rows of their own
    const k = `${e.message_key}/${data.version}`;
    eventCount.set(k, (eventCount.get(k) ?? 0) + 1);
  }

  for (const o of settled) {
    const id = String(o.id);
    // Versions 0, 1, 2, ... without gap or repeat, each from the status the previous ended in; the last
    // is the order's row.
    const line = logs.get(id) ?? [];
    const broken = line.findIndex((l, i) =>
      i === 0
        ? Number(l.version) !== 0 || l.from_status !== ''
        : Number(l.version) !== Number(line[i - 1]!.version) + 1 || l.from_status !== line[i - 1]!.to_status,
    );
    const last = line.at(-1);
    if (broken >= 0 || !last || last.to_status !== o.status || Number(last.version) !== Number(o.version)) {
      bad(
        'transitions form one line',
        [broken >= 0 ? `${id}/${line[broken]!.version}` : id],
        `status log ${line.map((l) => `${l.version}:${l.from_status || '-'}→${l.to_status}`).join(' ')}; order ${o.status} v${o.version}`,
      );
    }
    for (const l of line) {
      if (l.created_at < bounds.eventsSince) continue;
      const n = eventCount.get(`${id}/${l.version}`) ?? 0;
      if (n !== 1) bad('one event per transition', [`${id}/${l.version}`], `${n} tx-log rows for ${l.to_status}`);
    }

    // The payment that paid the order stays its kept payment when refunded (status REFUNDED).
    const kept = (pays.get(id) ?? []).filter((p) => String(p.succeeded_order_id) === id);
    const keptSum = kept.reduce((n, p) => n + Number(p.amount), 0);
    if (keptSum !== Number(o.paid_amount))
      bad('paid amount = kept payments', [id], `order paid ${o.paid_amount}, kept payments ${keptSum}`);
    const refunded = (refs.get(id) ?? [])
      .filter((r) => r.kind !== 'AUTO_UNKEPT_PAYMENT' && r.status === 'SUCCEEDED')
      .reduce((n, r) => n + Number(r.amount), 0);
    if (refunded !== Number(o.refunded_amount))
      bad(
        'refunded amount = succeeded refunds',
        [id],
        `order refunded ${o.refunded_amount}, succeeded refunds ${refunded}`,
      );
    if (Number(o.refunded_amount) > Number(o.paid_amount))
      bad('never refunded more than paid', [id], `refunded ${o.refunded_amount} of ${o.paid_amount}`);
    if (o.status === 'REFUNDED' && Number(o.refunded_amount) !== Number(o.paid_amount))
      bad('a REFUNDED order got all its money back', [id], `refunded ${o.refunded_amount} of ${o.paid_amount}`);
    if (o.status === 'PENDING_PAYMENT' && o.pay_deadline < bounds.settledBefore)
      bad('no order pending past its deadline', [id], `deadline ${o.pay_deadline.toISOString()}`);
  }

  // Captured money is kept or refunded: a captured payment that its order did not keep (paid twice, or
  // paid after closing) is refunded in full automatically; a kept one marked REFUNDED was refunded in full.
  for (const p of payments) {
    if ((p.status !== 'SUCCEEDED' && p.status !== 'REFUNDED') || p.updated_at >= bounds.settledBefore) continue;
    const back = (refs.get(String(p.order_id)) ?? []).filter(
      (r) => String(r.payment_id) === String(p.id) && r.status === 'SUCCEEDED',
    );
    const sum = (kind: (k: string) => boolean) =>
      back.filter((r) => kind(r.kind)).reduce((n, r) => n + Number(r.amount), 0);
    if (p.succeeded_order_id === null) {
      const auto = sum((k) => k === 'AUTO_UNKEPT_PAYMENT');
      if (auto !== Number(p.amount))
        bad('an unkept payment is refunded in full', [p.id, p.order_id], `captured ${p.amount}, refunded ${auto}`);
    } else if (p.status === 'REFUNDED') {
      const refunded = sum((k) => k !== 'AUTO_UNKEPT_PAYMENT');
      if (refunded !== Number(p.amount))
        bad('a refunded payment got its refunds', [p.id, p.order_id], `captured ${p.amount}, refunded ${refunded}`);
    }
  }
}

/** The SKU checks for one page of SKUs, each row and its pending units read in one statement (one snapshot). */
export async function checkSkus(
  ctx: ServiceContext,
  afterId: string,
  limit: number,
  bad: Report,
): Promise<{ checked: number; lastId: string | null }> {
  const skus = await read<{ id: string; available: number; reserved: number; sold: number; pending: number | string }>(
    ctx,
    SLICE_SQL.skus,
    [afterId, limit],
  );
  for (const s of skus) {
    if (Number(s.available) < 0 || Number(s.reserved) < 0 || Number(s.sold) < 0)
      bad('stock never negative', [s.id], `available ${s.available}, reserved ${s.reserved}, sold ${s.sold}`);
    if (Number(s.reserved) !== Number(s.pending))
      bad('reserved = units of pending orders', [s.id], `reserved ${s.reserved}, pending orders hold ${s.pending}`);
  }
  return { checked: skus.length, lastId: skus.at(-1)?.id ?? null };
}

/** Flash sales that have not ended, or ended less than a day ago: sold within stock. */
export async function recentSaleIds(ctx: ServiceContext, bad: Report, now: Date): Promise<string[]> {
  const sales = await read<{ id: string; stock: number; sold: number }>(
    ctx,
    'SELECT id, stock, sold FROM flash_sales WHERE ends_at > ? ORDER BY id LIMIT 1000',
    [new Date(now.getTime() - 86_400_000)],
  );
  for (const s of sales) {
    if (Number(s.sold) > Number(s.stock)) bad('flash sale never oversold', [s.id], `sold ${s.sold} of ${s.stock}`);
  }
  return sales.map((s) => String(s.id));
}

export type { OrderRow as AuditOrderRow };
