import { type SQL, sql } from 'drizzle-orm';
import { reconcileFlashSale } from '../../internal/flashsale/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import type { Ledger } from './driver.js';

export interface Violation {
  invariant: string;
  ids: string[];
  detail: string;
}

export interface AuditedEvent {
  eventId: string;
  messageId: string;
  orderId: string;
  version: number;
  status: string;
}

/** The rows of a query, as the driver returns them. */
export async function rows(ctx: ServiceContext, q: SQL): Promise<any[]> {
  const [r] = (await ctx.db.execute(q)) as unknown as [any[]];
  return r;
}

/**
 * The invariants a correct system keeps through any crash, checked once the system has settled.
 * Each returns the ids involved so a failing run can be followed up in the database.
 */
export async function checkInvariants(
  ctx: ServiceContext,
  input: {
    ledger: Ledger;
    initialStock: Map<string, number>;
    saleId: string;
    /** When this run started: earlier messages on the broker belong to earlier runs. */
    startedAt: number;
    events: AuditedEvent[];
    closeIntervalMs: number;
  },
): Promise<Violation[]> {
  const out: Violation[] = [];
  const bad = (invariant: string, ids: unknown[], detail: string) =>
    out.push({ invariant, ids: ids.map(String).slice(0, 20), detail });

  // 1. Stock is conserved per SKU (what a flash sale took counts as the sale's), never negative, and
  //    nothing stays reserved once no order is pending.
  const skus = await rows(
    ctx,
    // A sale holds its unsold units (stock - sold); sold ones are reserved or sold on the SKU like any order's.
    sql`SELECT s.id, s.available, s.reserved, s.sold, COALESCE((SELECT SUM(f.stock - f.sold) FROM flash_sales f WHERE f.sku_id = s.id), 0) AS sale_stock FROM skus s`,
  );
  for (const s of skus) {
    const initial = input.initialStock.get(String(s.id));
    if (initial === undefined) continue;
    const total = Number(s.available) + Number(s.reserved) + Number(s.sold) + Number(s.sale_stock);
    if (total !== initial)
      bad(
        'stock conserved',
        [s.id],
        `available ${s.available} + reserved ${s.reserved} + sold ${s.sold} + sale ${s.sale_stock} = ${total}, started with ${initial}`,
      );
    if (Number(s.available) < 0 || Number(s.reserved) < 0 || Number(s.sold) < 0)
      bad('stock never negative', [s.id], JSON.stringify(s));
  }
  const reservedVsPending = await rows(
    ctx,
    sql`SELECT s.id, s.reserved, COALESCE((SELECT SUM(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id WHERE i.sku_id = s.id AND o.status = 'PENDING_PAYMENT'), 0) AS pending FROM skus s`,
  );
  for (const s of reservedVsPending) {
    if (Number(s.reserved) !== Number(s.pending))
      bad('reserved = units of pending orders', [s.id], `reserved ${s.reserved}, pending orders hold ${s.pending}`);
  }

  // 2. Flash sale: no oversell, Redis agrees with the DB, every ticket settled, limits kept.
  const [sale] = await rows(
    ctx,
    sql`SELECT id, stock, sold, per_user_limit FROM flash_sales WHERE id = ${input.saleId}`,
  );
  if (sale) {
    const liveSql = sql`SELECT t.user_id, t.quantity FROM flash_sale_tickets t JOIN orders o ON o.id = t.order_id WHERE t.sale_id = ${input.saleId} AND t.status = 'ORDERED' AND o.status <> 'CANCELLED'`;
    const live = await rows(ctx, liveSql);
    const liveUnits = live.reduce((n, t) => n + Number(t.quantity), 0);
    if (liveUnits > Number(sale.stock))
      bad('no flash-sale oversell', [sale.id], `${liveUnits} units in live orders, stock ${sale.stock}`);
    if (liveUnits !== Number(sale.sold))
      bad('flash sale sold = live order units', [sale.id], `sold ${sale.sold}, live orders hold ${liveUnits}`);
    const perUser = new Map<string, number>();
    for (const t of live) perUser.set(String(t.user_id), (perUser.get(String(t.user_id)) ?? 0) + Number(t.quantity));
    const over = [...perUser].filter(([, n]) => n > Number(sale.per_user_limit));
    if (over.length)
      bad(
        'flash-sale per-user limit',
        over.map(([u]) => u),
        JSON.stringify(over.slice(0, 5)),
      );
    const rec = await reconcileFlashSale(ctx, BigInt(input.saleId), { dryRun: true });
    if (rec.action !== 'ok') bad('flash sale Redis agrees with DB', [sale.id], JSON.stringify(rec));
    if (rec.queuedTickets > 0) bad('no ticket still QUEUED', [sale.id], `${rec.queuedTickets} tickets queued in Redis`);
    const orphans = await rows(
      ctx,
      sql`SELECT o.id FROM orders o LEFT JOIN flash_sale_tickets t ON t.order_id = o.id WHERE o.source = 'FLASHSALE' AND t.id IS NULL`,
    );
    if (orphans.length)
      bad(
        'one order per ticket',
        orphans.map((o) => o.id),
        `${orphans.length} flash-sale orders no ticket points to`,
      );
    const shared = await rows(
      ctx,
      sql`SELECT order_id, COUNT(*) AS n FROM flash_sale_tickets WHERE order_id IS NOT NULL GROUP BY order_id HAVING n > 1`,
    );
    if (shared.length)
      bad(
        'one ticket per order',
        shared.map((o) => o.order_id),
        JSON.stringify(shared.slice(0, 5)),
      );
  }
  for (const p of input.ledger.purchases) {
    if (p.answer?.status !== 202) continue;
    const seq = String(p.ticketId).split('-')[1];
    const [t] = await rows(ctx, sql`SELECT status, order_id FROM flash_sale_tickets WHERE id = ${seq}`);
    if (!t) bad('a 202 purchase has its ticket', [p.ticketId, p.key], 'ticket never reached the DB');
    else if (t.status === 'ORDERED' && !t.order_id)
      bad('an ORDERED ticket has its order', [p.ticketId], JSON.stringify(t));
  }

  // 3. Every answered create has exactly its one order; no key ever made two.
  const byNote = new Map<string, string[]>();
  for (const o of await rows(ctx, sql`SELECT id, note, user_id FROM orders WHERE source <> 'FLASHSALE'`)) {
    byNote.set(o.note, [...(byNote.get(o.note) ?? []), String(o.id)]);
  }
  for (const c of input.ledger.creates) {
    const made = byNote.get(c.key) ?? [];
    if (made.length > 1) bad('one effect per idempotency key', [c.key, ...made], `${made.length} orders for one key`);
    if (c.answer?.status === 201 && (made.length !== 1 || made[0] !== c.orderId)) {
      bad(
        'a 201 create has exactly its order',
        [c.key, c.orderId ?? ''],
        `orders with this key: ${made.join(',') || 'none'}`,
      );
    }
  }

  // 4. Every committed transition's event is on the broker exactly once per event id, and nothing was
  //    published for a transition that did not commit.
  const log = await rows(ctx, sql`SELECT order_id, version, to_status FROM order_status_log`);
  const seen = new Map<string, AuditedEvent[]>();
  for (const e of input.events)
    seen.set(`${e.orderId}/${e.version}`, [...(seen.get(`${e.orderId}/${e.version}`) ?? []), e]);
  const committed = new Set(log.map((l) => `${l.order_id}/${l.version}`));
  const missing = log.filter((l) => !seen.has(`${l.order_id}/${l.version}`));
  if (missing.length)
    bad(
      'every committed transition published',
      missing.map((m) => `${m.order_id}/${m.version}`),
      `${missing.length} of ${log.length} transitions have no event`,
    );
  const phantom = input.events.filter((e) => !committed.has(`${e.orderId}/${e.version}`));
  if (phantom.length)
    bad(
      'no event without its transition',
      phantom.map((e) => `${e.orderId}/${e.version}`),
      `${phantom.length} events`,
    );
  const byEventId = new Map<string, Set<string>>();
  for (const e of input.events) byEventId.set(e.eventId, (byEventId.get(e.eventId) ?? new Set()).add(e.messageId));
  const dupMessages = [...byEventId].filter(([, m]) => m.size > 1);
  if (dupMessages.length)
    bad(
      'one broker message per event id',
      dupMessages.map(([id]) => id),
      `${dupMessages.length} event ids sent more than once`,
    );
  const dupEvents = [...seen].filter(([, es]) => new Set(es.map((e) => e.eventId)).size > 1);
  if (dupEvents.length)
    bad(
      'one event per transition',
      dupEvents.map(([k]) => k),
      `${dupEvents.length} transitions with several event ids`,
    );

  // 4b. FIFO per order: each order's transitions form one line (versions 0, 1, 2, ... with no gap or
  //     repeat, each starting from the status the previous one ended in) that ends at the order's row:
  //     concurrent writers, redeliveries and replays never skipped, reordered or doubled a step.
  const chain = await rows(
    ctx,
    sql`SELECT l.order_id, l.version, l.from_status, l.to_status, o.status, o.version AS order_version
        FROM order_status_log l JOIN orders o ON o.id = l.order_id ORDER BY l.order_id, l.version`,
  );
  const broken: string[] = [];
  let prev: (typeof chain)[number] | undefined;
  for (const [i, r] of chain.entries()) {
    const first = prev?.order_id !== r.order_id;
    const ok = first
      ? Number(r.version) === 0 && r.from_status === ''
      : Number(r.version) === Number(prev.version) + 1 && r.from_status === prev.to_status;
    const last = chain[i + 1]?.order_id !== r.order_id;
    if (!ok || (last && (r.to_status !== r.status || Number(r.version) !== Number(r.order_version))))
      broken.push(`${r.order_id}/${r.version}`);
    prev = r;
  }
  if (broken.length)
    bad(
      'one line of transitions per order',
      broken,
      `${broken.length} transitions out of line (gap, repeat or wrong start)`,
    );

  // 5. Money: every captured payment is either kept by its order or refunded in full.
  const captured = await rows(
    ctx,
    sql`SELECT p.id, p.order_id, p.amount, p.succeeded_order_id, o.paid_amount, o.status AS order_status FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.status = 'SUCCEEDED'`,
  );
  for (const p of captured) {
    const refunds = await rows(ctx, sql`SELECT kind, amount, status FROM refunds WHERE payment_id = ${p.id}`);
    const kept = p.succeeded_order_id !== null;
    if (kept) {
      if (Number(p.paid_amount) !== Number(p.amount))
        bad(
          'a kept payment is the order’s paid amount',
          [p.id, p.order_id],
          `paid ${p.paid_amount}, payment ${p.amount}`,
        );
    } else {
      const auto = refunds.filter((r) => r.kind === 'AUTO_UNKEPT_PAYMENT');
      if (auto.length !== 1 || Number(auto[0].amount) !== Number(p.amount)) {
        bad('an unkept payment is refunded in full', [p.id, p.order_id], `refunds ${JSON.stringify(refunds)}`);
      }
    }
  }
  const orders = await rows(ctx, sql`SELECT id, status, paid_amount, refunded_amount FROM orders`);
  for (const o of orders) {
    const keptPayments = await rows(ctx, sql`SELECT amount FROM payments WHERE succeeded_order_id = ${o.id}`);
    const keptSum = keptPayments.reduce((s, p) => s + Number(p.amount), 0);
    if (keptSum !== Number(o.paid_amount))
      bad('paid amount = kept payments', [o.id], `paid ${o.paid_amount}, kept ${keptSum}`);
    const refunded = await rows(
      ctx,
      sql`SELECT COALESCE(SUM(amount), 0) AS s FROM refunds WHERE order_id = ${o.id} AND kind <> 'AUTO_UNKEPT_PAYMENT' AND status = 'SUCCEEDED'`,
    );
    if (Number(refunded[0].s) !== Number(o.refunded_amount))
      bad('refunded amount = succeeded refunds', [o.id], `order says ${o.refunded_amount}, refunds ${refunded[0].s}`);
    if (o.status === 'REFUNDED' && Number(o.refunded_amount) !== Number(o.paid_amount))
      bad('a REFUNDED order got all its money back', [o.id], JSON.stringify(o));
  }
  const openRefunds = await rows(ctx, sql`SELECT id, order_id, status FROM refunds WHERE status <> 'SUCCEEDED'`);
  if (openRefunds.length)
    bad(
      'every refund completed once the provider confirmed',
      openRefunds.map((r) => r.id),
      JSON.stringify(openRefunds.slice(0, 5)),
    );

  // 6. Deadlines: nothing pending past its deadline plus one job interval.
  const overdue = await rows(
    ctx,
    sql`SELECT id, pay_deadline FROM orders WHERE status = 'PENDING_PAYMENT' AND pay_deadline < ${new Date(Date.now() - input.closeIntervalMs - 10_000)}`,
  );
  if (overdue.length)
    bad(
      'no order pending past its deadline',
      overdue.map((o) => o.id),
      `${overdue.length} orders`,
    );

  // 7. Answered cancels and refund requests took effect.
  for (const c of input.ledger.cancels) {
    if (c.answer?.status !== 200) continue;
    const [o] = await rows(ctx, sql`SELECT status FROM orders WHERE id = ${c.orderId}`);
    if (o?.status !== 'CANCELLED') bad('a 200 cancel leaves the order CANCELLED', [c.orderId], `status ${o?.status}`);
  }
  for (const r of input.ledger.refundRequests) {
    if (r.answer?.status !== 200) continue;
    const [o] = await rows(ctx, sql`SELECT status FROM orders WHERE id = ${r.orderId}`);
    if (o?.status !== 'REFUNDED') bad('an accepted refund request ends REFUNDED', [r.orderId], `status ${o?.status}`);
  }

  for (const a of input.ledger.approvedAfterSales) {
    const [r] = await rows(ctx, sql`SELECT status FROM after_sales WHERE id = ${a.afterSaleId}`);
    if (r?.status !== 'REFUNDED') bad('an approved after-sale ends REFUNDED', [a.afterSaleId], `status ${r?.status}`);
  }

  // 7b. Partial refunds and parcels, per payment and per line: captured = kept + refunded; no line gives
  //     back more units or money than it had; no unit both ships and is refunded before shipping.
  const kept = await rows(
    ctx,
    sql`SELECT p.id, p.amount, p.status, COALESCE(SUM(CASE WHEN r.status = 'SUCCEEDED' THEN r.amount END), 0) AS back
          FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id
         WHERE p.succeeded_order_id IS NOT NULL GROUP BY p.id, p.amount, p.status`,
  );
  for (const p of kept) {
    const back = Number(p.back);
    if (back > Number(p.amount)) bad('captured = kept + refunded', [p.id], `refunded ${back} of ${p.amount}`);
    if ((p.status === 'REFUNDED') !== (back === Number(p.amount)))
      bad('a kept payment is REFUNDED exactly when refunded in full', [p.id], `${p.status}, ${back} of ${p.amount}`);
  }
  const lines = await rows(
    ctx,
    sql`SELECT i.id, i.quantity, i.line_total,
          (SELECT COALESCE(SUM(l.quantity), 0) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id
            WHERE l.order_item_id = i.id AND a.status NOT IN ('REJECTED', 'CLOSED')) AS held,
          (SELECT COALESCE(SUM(l.amount), 0) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id
            WHERE l.order_item_id = i.id AND a.status NOT IN ('REJECTED', 'CLOSED')) AS held_amount,
          (SELECT COALESCE(SUM(l.quantity), 0) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id
            WHERE l.order_item_id = i.id AND a.goods = 'UNSHIPPED' AND a.status NOT IN ('REJECTED', 'CLOSED')) AS unshipped,
          (SELECT COALESCE(SUM(s.quantity), 0) FROM shipment_items s WHERE s.order_item_id = i.id) AS shipped
        FROM order_items i WHERE i.order_id IN (SELECT DISTINCT order_id FROM after_sales UNION SELECT DISTINCT order_id FROM shipments)`,
  );
  for (const l of lines) {
    if (Number(l.held) > Number(l.quantity) || Number(l.held_amount) > Number(l.line_total))
      bad('a line never refunds more than it had', [l.id], JSON.stringify(l));
    if (Number(l.shipped) + Number(l.unshipped) > Number(l.quantity))
      bad('a unit either ships or is refunded before shipping', [l.id], JSON.stringify(l));
  }
  const refundedSales = await rows(
    ctx,
    sql`SELECT a.order_id, SUM(a.items_amount + a.shipping_amount) AS s FROM after_sales a
         WHERE a.status = 'REFUNDED' GROUP BY a.order_id`,
  );
  for (const a of refundedSales) {
    const [r] = await rows(
      ctx,
      sql`SELECT COALESCE(SUM(amount), 0) AS s FROM refunds WHERE order_id = ${a.order_id} AND after_sale_id IS NOT NULL AND status = 'SUCCEEDED'`,
    );
    if (Number(r.s) !== Number(a.s))
      bad('refunded after-sales = their succeeded refunds', [a.order_id], `after-sales ${a.s}, refunds ${r.s}`);
  }
  const stuck = await rows(ctx, sql`SELECT id FROM orders WHERE status = 'PARTIALLY_SHIPPED'`);
  if (stuck.length)
    bad(
      'every order the load shipped is fully shipped',
      stuck.map((o) => o.id),
      `${stuck.length} PARTIALLY_SHIPPED`,
    );

  // 8. Dead letters: a correct system parks nothing for this traffic (every message is well formed).
  // (Messages published before this run, left on a broker that earlier runs used, are not this run's.)
  const dead = (await rows(ctx, sql`SELECT id, topic, consumer_group, error_code, body FROM dead_letters`))
    .filter((d) => {
      try {
        return new Date(JSON.parse(d.body).occurredAt).getTime() >= input.startedAt;
      } catch {
        return true;
      }
    })
    .map(({ body: _body, ...d }) => d);
  if (dead.length)
    bad(
      'no dead letters',
      dead.map((d) => d.id),
      JSON.stringify(dead.slice(0, 5)),
    );
  return out;
}
