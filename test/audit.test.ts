import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { SLICE_SQL } from '../internal/audit/checks.js';
import { AUDIT_CHECKS, type AuditReport, auditInvariants } from '../internal/audit/index.js';
import { createFlashSale, saleKeys } from '../internal/flashsale/index.js';
import { jobNamed, runJob } from '../internal/jobs/index.js';
import { cancelOrder, createOrder } from '../internal/order/index.js';
import { completeRefund, refundsOfOrder, requestRefund } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig, testEnv } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, payOrder } from './helpers/orders.js';

const TABLES =
  'orders, order_items, order_status_log, mq_tx_log, payments, refunds, skus, flash_sales, flash_sale_tickets';

// The audit over a known history: nothing found while the rows are right; each deliberately broken row
// found under its check with its id; nothing written by the audit; the job's metric and the CLI's exit code.
describe('audit-invariants over the real tables (MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  const userId = BigInt(Date.now()) * 1000n + 700_000n;
  const actor = { type: 'USER' as const, id: String(userId) };
  const ids: Record<'paid' | 'cancelled' | 'refunded' | 'pending' | 'paidTwice', bigint> = {} as never;
  let skuIds: bigint[] = [];
  let saleId = '';
  let firstOrder = 0n;

  const pay = (orderId: bigint, times = 1) => payOrder(ctx, orderId, userId, times);
  const completeRefunds = async (orderId: bigint) => {
    for (const r of await refundsOfOrder(ctx.db, orderId)) {
      if (r.status !== 'SUCCEEDED') await completeRefund(ctx, { refundId: r.id, amount: r.amount });
    }
  };
  /** The audit over exactly this test's orders, with nothing skipped as still in flight. */
  const audit = () =>
    auditInvariants(ctx, { afterOrderId: String(firstOrder - 1n), maxOrders: 5, sliceSize: 2, settleMs: 0 });
  const ours = (r: AuditReport) => {
    const mine = new Set([...Object.values(ids), ...skuIds].map(String).concat(saleId));
    return r.findings.filter((f) => f.ids.some((id) => mine.has(id.split('/')[0]!)));
  };
  const checksum = async () => {
    const [rows] = await ctx.pool.query(`CHECKSUM TABLE ${TABLES}`);
    return JSON.stringify(rows);
  };

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
    skuIds = await makeSkus(ctx, [
      { price: 300, available: 50 },
      { price: 120, available: 50 },
    ]);
    const create = async (qty: number) =>
      (await createOrder(ctx, { userId, items: [{ skuId: skuIds[0]!, quantity: qty }], address })).order.id;
    ids.paid = await create(1);
    ids.cancelled = await create(2);
    ids.refunded = await create(1);
    ids.pending = await create(3);
    ids.paidTwice = await create(1);
    firstOrder = ids.paid;
    assert.ok(Object.values(ids).every((id) => id >= firstOrder));
    await pay(ids.paid);
    await cancelOrder(ctx, { orderId: ids.cancelled, reason: 'USER', actor, userId });
    await pay(ids.refunded);
    await requestRefund(ctx, { orderId: ids.refunded, userId, actor, reason: 'test' });
    await completeRefunds(ids.refunded);
    // Two captured payments: one kept, the other refunded automatically.
    await pay(ids.paidTwice, 2);
    await completeRefunds(ids.paidTwice);
    const sale = await createFlashSale(ctx, {
      skuId: skuIds[1]!,
      price: 100,
      stock: 10,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000),
      endsAt: new Date(Date.now() + 3600_000),
    });
    saleId = String(sale.id);
  });
  // The broken rows go: no later test meets them.
  after(async () => {
    if (!ctx) return;
    const orderIds = Object.values(ids).map(String);
    if (orderIds.length > 0) {
      for (const t of ['order_items', 'order_status_log', 'payments', 'refunds'])
        await ctx.pool.query(`DELETE FROM ${t} WHERE order_id IN (?)`, [orderIds]);
      await ctx.pool.query('DELETE FROM mq_tx_log WHERE message_key IN (?)', [orderIds]);
      await ctx.pool.query('DELETE FROM orders WHERE id IN (?)', [orderIds]);
    }
    if (saleId) {
      await ctx.pool.query('DELETE FROM flash_sales WHERE id = ?', [saleId]);
      const k = saleKeys(saleId);
      await ctx.redis.del(k.meta, k.stock, k.users, k.tickets, k.queued, k.sent, k.returned);
    }
    if (skuIds.length > 0) await ctx.pool.query('DELETE FROM skus WHERE id IN (?)', [skuIds.map(String)]);
    await ctx.redis.del('audit:cursor');
    await ctx.close();
  });

  it('finds nothing in a correct history of paid, cancelled, refunded, pending and twice-paid orders', async () => {
    const r = await audit();
    assert.equal(r.checkedOrders, 5);
    assert.ok(r.checkedSkus >= 2 && r.checkedSales >= 1);
    assert.deepEqual(ours(r), []);
    assert.deepEqual(Object.keys(r.byCheck).sort(), [...AUDIT_CHECKS].sort());
  });

  it('each slice read is a bounded range of a key or an index (EXPLAIN), never a scan of a whole table', async () => {
    const list = [String(firstOrder), String(firstOrder + 1n)];
    const plans: Array<[string, string, unknown[]]> = [
      ['orders', SLICE_SQL.orders, ['0', 500]],
      ['statusLog', SLICE_SQL.statusLog, [list]],
      ['txLog', SLICE_SQL.txLog, [list]],
      ['payments', SLICE_SQL.payments, [list]],
      ['refunds', SLICE_SQL.refunds, [list]],
      ['skus', SLICE_SQL.skus, ['0', 500]],
    ];
    for (const [name, sql, values] of plans) {
      const [rows] = (await ctx.pool.query(`EXPLAIN ${sql}`, values)) as unknown as [
        Array<{ table: string; type: string; key: string | null; possible_keys: string | null; rows: number }>,
      ];
      for (const row of rows) {
        // On a table of a few rows the optimizer scans it whatever the indexes; there an index it could
        // use (possible_keys) must exist. On the bench database's 50,000 orders the plan is all range/ref.
        const indexed = ['range', 'ref', 'eq_ref', 'const'].includes(row.type) && row.key;
        const tiny = row.type === 'ALL' && Number(row.rows) < 1000 && row.possible_keys;
        assert.ok(
          indexed || tiny,
          `${name}: ${row.table} is read by ${row.type} on ${row.key ?? 'no index'} (${row.rows} rows)`,
        );
      }
    }
  });

  it('finds each deliberately broken row under its check, and writes nothing', async () => {
    await ctx.pool.query('UPDATE orders SET paid_amount = paid_amount + 1 WHERE id = ?', [String(ids.paid)]);
    await ctx.pool.query('DELETE FROM order_status_log WHERE order_id = ? AND version = 0', [String(ids.cancelled)]);
    await ctx.pool.query(
      "DELETE FROM mq_tx_log WHERE message_key = ? AND event_type = 'order.created' AND JSON_EXTRACT(payload, '$.version') = 0",
      [String(ids.refunded)],
    );
    await ctx.pool.query('UPDATE orders SET refunded_amount = refunded_amount - 1 WHERE id = ?', [
      String(ids.refunded),
    ]);
    await ctx.pool.query('UPDATE orders SET pay_deadline = ? WHERE id = ?', [
      new Date(Date.now() - 3600_000),
      String(ids.pending),
    ]);
    await ctx.pool.query("DELETE FROM refunds WHERE order_id = ? AND kind = 'AUTO_UNKEPT_PAYMENT'", [
      String(ids.paidTwice),
    ]);
    await ctx.pool.query('UPDATE skus SET reserved = reserved + 2 WHERE id = ?', [String(skuIds[0])]);
    await ctx.pool.query('UPDATE skus SET sold = -1 WHERE id = ?', [String(skuIds[1])]);
    await ctx.redis.set(saleKeys(saleId).stock, '7'); // the sale has 10 unsold units and nothing queued

    const before = await checksum();
    const r = await audit();
    assert.equal(await checksum(), before, 'the audit changed a table');
    const found = ours(r).map((f) => `${f.check} ${f.ids[0]}`);
    const expect = [
      `paid amount = kept payments ${ids.paid}`,
      `transitions form one line ${ids.cancelled}/1`,
      `one event per transition ${ids.refunded}/0`,
      `refunded amount = succeeded refunds ${ids.refunded}`,
      `a REFUNDED order got all its money back ${ids.refunded}`,
      `no order pending past its deadline ${ids.pending}`,
      `an unkept payment is refunded in full`,
      `reserved = units of pending orders ${skuIds[0]}`,
      `stock never negative ${skuIds[1]}`,
      `flash sale Redis agrees with MySQL ${saleId}`,
    ];
    for (const e of expect)
      assert.ok(
        found.some((f) => f.startsWith(e)),
        `missing "${e}" in ${found.join(' | ')}`,
      );
    const unkept = ours(r).find((f) => f.check === 'an unkept payment is refunded in full');
    assert.ok(unkept?.ids.includes(String(ids.paidTwice)), JSON.stringify(unkept));
    // Only the broken rows: the refunded order's deleted tx-log row is its only event finding.
    assert.equal(found.filter((f) => f.startsWith('one event per transition')).length, 1, found.join(' | '));
  });

  it('the job counts findings per check in its metric; the CLI exits 1 and lists them as JSON', async () => {
    await ctx.redis.set('audit:cursor', String(firstOrder - 1n));
    const run = await runJob(ctx, jobNamed('audit-invariants')!);
    assert.equal(run.status, 'ok', JSON.stringify(run));
    const text = await ctx.metrics.metrics();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('qianfan_audit_findings_total{check="paid amount = kept payments"'));
    assert.ok(line && Number(line.split(' ').at(-1)) >= 1, line);
    assert.match(text, /qianfan_audit_findings_total\{check="flash sale never oversold"[^}]*\} \d+/);

    const cli = spawnSync(
      process.execPath,
      [
        'bin/qianfan-order.js',
        'audit',
        '--after',
        String(firstOrder - 1n),
        '--max-orders',
        '5',
        '--settle',
        '0',
        '--json',
      ],
      { env: testEnv({ QIANFAN_LOG__LEVEL: 'silent' }), encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(cli.status, 1, cli.stderr);
    const report = JSON.parse(cli.stdout) as AuditReport;
    assert.equal(report.checkedOrders, 5);
    assert.ok(report.findings.some((f) => f.check === 'paid amount = kept payments' && f.ids[0] === String(ids.paid)));
    assert.match(cli.stderr, /rows break an invariant; see docs\/operations\.md/);

    const help = spawnSync(process.execPath, ['bin/qianfan-order.js', 'audit', '--help'], {
      env: testEnv(),
      encoding: 'utf8',
    });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /reads only/);
  });
});
