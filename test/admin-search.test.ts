import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import {
  cancelOrder,
  candidatesSql,
  createOrder,
  matchesQuery,
  type OrderSearch,
  searchOrders,
  summarizeSearch,
} from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig, testEnv } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, payOrder } from './helpers/orders.js';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['bin/qianfan-order.js', ...args], {
    env: testEnv({ QIANFAN_LOG__LEVEL: 'warn' }),
    encoding: 'utf8',
    timeout: 120_000,
  });

// Operators' search, summary and CSV export over the real tables: each filter finds exactly this run's
// orders, pages follow the cursor without a gap or a repeat, and every statement is one bounded range of
// one index (EXPLAIN).
describe('admin order search and export (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  const start = new Date(Date.now() - 1000);
  // This run's phone digits and buyers: no other test's orders share them.
  const last4 = String(Date.now() % 10_000).padStart(4, '0');
  const phone = `139${String(Date.now()).slice(-4)}${last4}`;
  const buyerA = BigInt(Date.now()) * 1000n + 700_001n;
  const buyerB = buyerA + 1n;
  let skuX: bigint;
  let skuY: bigint;
  /** The run's orders, newest last: [a1 paid, a2 pending, a3 cancelled, b1 paid (X and Y), b2 pending (Y, web)]. */
  const made: bigint[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'qf-export-'));

  before(async () => {
    ctx = await createServiceContext(
      testConfig({ QIANFAN_AUTH__ROLE_PERMISSIONS: 'finance=orders:export; dpo=orders:export,orders:unmask' }),
      { process: 'restful', mq: true, logger: testLogger },
    );
    app = await buildApp(ctx);
    [skuX, skuY] = (await makeSkus(ctx, [
      { price: 1234, available: 100, title: '=HYPERLINK("x") tea' },
      { price: 500, available: 100, title: 'cup, "blue"' },
    ])) as [bigint, bigint];
    const at = { ...address, phone };
    const order = async (userId: bigint, items: Array<[bigint, number]>, source?: 'WEB') =>
      (
        await createOrder(ctx, {
          userId,
          address: { ...at, name: userId === buyerA ? '+Wang' : 'Li' },
          items: items.map(([skuId, quantity]) => ({ skuId, quantity })),
          source,
        })
      ).order.id;
    made.push(await order(buyerA, [[skuX, 1]]));
    made.push(await order(buyerA, [[skuX, 2]]));
    made.push(await order(buyerA, [[skuX, 1]]));
    made.push(
      await order(buyerB, [
        [skuX, 1],
        [skuY, 3],
      ]),
    );
    made.push(await order(buyerB, [[skuY, 1]], 'WEB'));
    await payOrder(ctx, made[0] as bigint, buyerA);
    await payOrder(ctx, made[3] as bigint, buyerB);
    await cancelOrder(ctx, { orderId: made[2] as bigint, reason: 'ADMIN', actor: { type: 'ADMIN', id: 't' } });
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const ids = (n: number[]) => n.map((i) => made[i] as bigint).sort((a, b) => (a < b ? 1 : -1));
  /** Every page of a search, followed to its end. */
  const all = async (f: OrderSearch, limit = 2) => {
    const seen: bigint[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await searchOrders(ctx, f, { cursor, limit });
      assert.ok(page.orders.length <= limit);
      seen.push(...page.orders.map((o) => o.id));
      if (page.nextCursor === null) return seen;
      cursor = page.nextCursor;
    }
    throw new Error('more than 100 pages');
  };

  it('each filter, alone and combined, finds exactly the matching orders, newest first, across pages', async () => {
    const mine = { createdFrom: start };
    assert.deepEqual(await all({ phoneLast4: last4, ...mine }), ids([0, 1, 2, 3, 4]));
    assert.deepEqual(await all({ userId: buyerA }), ids([0, 1, 2]));
    assert.deepEqual(await all({ orderNo: `QF${String(made[1]).padStart(19, '0')}` }), ids([1]));
    assert.deepEqual(await all({ skuId: skuY }), ids([3, 4]));
    assert.deepEqual(await all({ skuId: skuX, userId: buyerB }), ids([3]));
    assert.deepEqual(await all({ status: 'PAID', phoneLast4: last4, ...mine }), ids([0, 3]));
    assert.deepEqual(await all({ status: 'CANCELLED', ...mine, phoneLast4: last4 }), ids([2]));
    assert.deepEqual(await all({ source: 'WEB', ...mine, phoneLast4: last4 }), ids([4]));
    assert.deepEqual(await all({ paymentStatus: 'SUCCEEDED', phoneLast4: last4 }), ids([0, 3]));
    assert.deepEqual(await all({ phoneLast4: last4, amountMin: 2000, amountMax: 2734 }), ids([1, 3]));
    assert.deepEqual(
      await all({ phoneLast4: last4, paidFrom: start, paidTo: new Date(Date.now() + 60_000) }),
      ids([0, 3]),
    );
    assert.deepEqual(await all({ phoneLast4: last4, createdTo: start }), []);
    // The status driver alone, the run's orders picked out by the time range (ids carry their time).
    const paidNow = await all({ status: 'PAID', createdFrom: start }, 50);
    for (const id of ids([0, 3])) assert.ok(paidNow.includes(id));
    assert.ok(!paidNow.includes(made[1] as bigint));
  });

  it('every statement reads one index range: no full scan, no filesort (EXPLAIN)', async () => {
    const cases: Array<[OrderSearch, string]> = [
      [{ orderNo: `QF${String(made[0]).padStart(19, '0')}` }, 'PRIMARY'],
      [{ userId: buyerA, status: 'PAID' }, 'idx_orders_user_id'],
      [{ phoneLast4: last4, amountMin: 1 }, 'idx_orders_phone_last4_id'],
      [{ skuId: skuX, paymentStatus: 'SUCCEEDED' }, 'idx_order_items_sku_order'],
      [{ status: 'PAID', createdFrom: start }, 'idx_orders_status_id'],
      [{ source: 'WEB' }, 'idx_orders_source_id'],
      [{ createdFrom: start, createdTo: new Date() }, 'PRIMARY'],
      [{ amountMin: 1 }, 'PRIMARY'],
    ];
    const explain = async (statement: ReturnType<typeof sql>) =>
      ((await ctx.db.execute(sql`EXPLAIN ${statement}`)) as unknown as [Array<Record<string, unknown>>])[0];
    for (const [f, index] of cases) {
      const c = candidatesSql(f, 999_999_999_999_999_999n, 1000);
      assert.equal(c.index, index);
      const [plan] = await explain(c.sql);
      const what = `${JSON.stringify(f, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}: ${JSON.stringify(plan)}`;
      assert.equal(plan?.key, index, what);
      assert.ok(['range', 'ref', 'const', 'eq_ref'].includes(String(plan?.type)), what);
      assert.doesNotMatch(String(plan?.Extra ?? ''), /filesort|temporary/i, what);
      // The rows of the candidates, the other filters checked on each.
      const m = matchesQuery(ctx.db, f, ids([0, 1, 2, 3, 4]), 21).toSQL();
      const [rows] = (await ctx.db.execute(sql.raw(`EXPLAIN ${inline(m.sql, m.params)}`))) as unknown as [
        Array<Record<string, unknown>>,
      ];
      // By primary key: never more rows than ids, whatever the other filters. The plan starts at the
      // orders; SKU and payment filters are subqueries per candidate, never a table the plan starts from.
      const orderRow = rows.find((r) => r.table === 'orders');
      assert.equal(rows[0]?.table, 'orders', JSON.stringify(rows));
      for (const r of rows.slice(1)) assert.equal(r.select_type, 'DEPENDENT SUBQUERY', JSON.stringify(rows));
      assert.equal(orderRow?.key, 'PRIMARY', JSON.stringify(rows));
      assert.equal(orderRow?.type, 'range', JSON.stringify(rows));
      assert.doesNotMatch(String(orderRow?.Extra ?? ''), /filesort/i, JSON.stringify(rows));
    }
  });

  it('the summary counts and sums the matching orders per status', async () => {
    const s = await summarizeSearch(ctx, { phoneLast4: last4, createdFrom: start });
    assert.equal(s.complete, true);
    assert.equal(s.count, 5);
    assert.deepEqual(Object.keys(s.byStatus).sort(), ['CANCELLED', 'PAID', 'PENDING_PAYMENT']);
    assert.deepEqual(s.byStatus.PAID, { count: 2, amount: 1234 + 1234 + 1500 });
    assert.equal(s.amount, 1234 + 2468 + 1234 + 2734 + 500);
    const bySku = await summarizeSearch(ctx, { skuId: skuX, userId: buyerB });
    assert.equal(bySku.count, 1, 'an order with two lines of the SKU index is counted once');
  });

  const get = async (roles: string[], url: string) => {
    const token = await signDevToken(ctx.config.auth, { userId: '4343', roles }, 600);
    return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  };

  it('HTTP: search, summary and CSV export; full phones only with orders:unmask, which admin does not give', async () => {
    const page = await get(['support', 'orders:read'], `/v1/admin/orders?phoneLast4=${last4}&status=PAID&limit=1`);
    assert.equal(page.statusCode, 200, page.body);
    const body = JSON.parse(page.body) as { orders: Array<{ id: string }>; nextCursor: string | null };
    assert.deepEqual(
      body.orders.map((o) => o.id),
      [String(made[3])],
    );
    assert.ok(body.nextCursor);
    const summary = await get(['admin'], `/v1/admin/orders/summary?userId=${buyerA}`);
    assert.equal(JSON.parse(summary.body).count, 3);
    assert.equal((await get(['admin'], '/v1/admin/orders?phoneLast4=12a4')).statusCode, 400);
    assert.equal((await get(['admin'], '/v1/admin/orders?amountMin=9&amountMax=1')).statusCode, 400);
    assert.equal((await get(['orders:read'], `/v1/admin/orders/export?userId=${buyerA}`)).statusCode, 403);

    const csv = await get(
      ['finance'],
      `/v1/admin/orders/export?phoneLast4=${last4}&createdFrom=${start.toISOString()}`,
    );
    assert.equal(csv.statusCode, 200, csv.body);
    assert.match(String(csv.headers['content-type']), /^text\/csv; charset=utf-8/);
    assert.match(String(csv.headers['content-disposition']), /^attachment; filename="orders-.*\.csv"$/);
    assert.ok(csv.body.startsWith('\uFEFForder_no,order_id,user_id,status'));
    const lines = csv.body.slice(1).split('\r\n');
    assert.equal(lines.at(-1), '', 'ends with CRLF');
    assert.equal(lines.length, 1 + 5 + 1);
    const header = (lines[0] as string).split(',');
    const newest = (lines[1] as string).split(',');
    const col = (row: string[], name: string) => row[header.indexOf(name)];
    assert.equal(col(newest, 'order_id'), String(made[4]));
    assert.equal(col(newest, 'total_amount'), '5.00');
    assert.equal(col(newest, 'receiver_phone'), `139****${last4}`);
    assert.equal(col(newest, 'source'), 'WEB');
    assert.ok(!csv.body.includes(phone), 'no full phone number anywhere');
    assert.ok(csv.body.includes(",'+Wang,"), 'a formula-looking name is prefixed');

    assert.equal(
      JSON.parse((await get(['admin'], `/v1/admin/orders/export?userId=${buyerA}&phones=full`)).body).details
        .permission,
      'orders:unmask',
    );
    const full = await get(['dpo'], `/v1/admin/orders/export?userId=${buyerB}&phones=full&shape=lines`);
    assert.equal(full.statusCode, 200);
    const rows = full.body.slice(1).trimEnd().split('\r\n');
    assert.equal(rows.length, 1 + 3, 'one row per line: b1 has two, b2 one');
    assert.ok(full.body.includes(`,${phone},`));
    assert.ok(full.body.includes(`"cup, ""blue"""`), 'quotes and commas are quoted');
    assert.ok(full.body.includes(`'=HYPERLINK(""x"") tea`), 'a formula-looking title is prefixed');
  });

  it('CLI: order export writes through a .partial file with progress; bad filters exit 2', async () => {
    const out = path.join(dir, 'a.csv');
    const r = cli([
      'order',
      'export',
      '--phone-last4',
      last4,
      '--created-from',
      start.toISOString(),
      '--lines',
      '--out',
      out,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /export: 5 orders, 6 rows in /);
    assert.ok(existsSync(out) && !existsSync(`${out}.partial`));
    const text = readFileSync(out, 'utf8');
    assert.ok(text.startsWith('\uFEFF'));
    assert.equal(text.trimEnd().split('\r\n').length, 1 + 6);
    assert.ok(!text.includes(phone));
    const toStdout = cli(['order', 'export', '--user', String(buyerA), '--full-phones']);
    assert.equal(toStdout.status, 0, toStdout.stderr);
    assert.equal(toStdout.stdout.trimEnd().split('\r\n').length, 1 + 3);
    assert.ok(toStdout.stdout.includes(phone));
    for (const bad of [
      ['--phone-last4', '12'],
      ['--status', 'SHIPPING'],
      ['--amount-min', '5', '--amount-max', '1'],
      ['--source', 'TV'],
    ]) {
      const b = cli(['order', 'export', ...bad]);
      assert.equal(b.status, 2, `${bad.join(' ')}: ${b.stderr}`);
    }
  });
});

/** A statement with its values written in, for EXPLAIN (test values only: numbers, ids, dates, short text). */
function inline(statement: string, params: unknown[]): string {
  let i = 0;
  return statement.replaceAll('?', () => {
    const v = params[i++];
    if (typeof v === 'bigint' || typeof v === 'number') return String(v);
    if (v instanceof Date) return `'${v.toISOString().replace('T', ' ').replace('Z', '')}'`;
    return `'${String(v).replaceAll("'", "''")}'`;
  });
}
