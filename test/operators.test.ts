import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { jobNamed, runJob } from '../internal/jobs/index.js';
import { backfillRuns, orderColumns, orders, skus } from '../internal/model/index.js';
import { createOrder } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig, testEnv } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { startProcess } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['bin/qianfan-order.js', ...args], { env: testEnv(env), encoding: 'utf8' });
}
const lines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("operators' tools: jobs and the CLI (real MariaDB, Redis, RocketMQ)", () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
  });
  after(async () => ctx?.close());

  it('two job processes at once: every tick of a job runs exactly once', async () => {
    const env = (port: number) => ({
      QIANFAN_LOG__LEVEL: 'debug',
      QIANFAN_ADMIN__JOB_PORT: String(port),
      // Each replica its own instance (a taken one refuses to start: test/processes.test.ts).
      QIANFAN_SERVICE__INSTANCE: String(port - 19_150),
      QIANFAN_JOBS__CLEANUP_EXPIRED: '* * * * * *',
    });
    const a = startProcess('job/main.ts', [], env(19201));
    const b = startProcess('job/main.ts', [], env(19202));
    try {
      await waitFor('both job processes', 60_000, async () => {
        const ok = await Promise.all(
          [19201, 19202].map((p) =>
            fetch(`http://127.0.0.1:${p}/readyz`).then(
              (r) => r.ok,
              () => false,
            ),
          ),
        );
        return ok.every(Boolean);
      });
      const since = Math.floor(Date.now() / 1000) + 1;
      await sleep(6000);
      const until = Math.floor(Date.now() / 1000) - 1;
      const runs = [...lines(a.output()), ...lines(b.output())].filter(
        (l) =>
          l.msg === 'job finished' && l.job === 'cleanup-expired' && Number(l.tick) >= since && Number(l.tick) <= until,
      );
      const ticks = runs.map((r) => Number(r.tick));
      assert.equal(new Set(ticks).size, ticks.length, `a tick ran twice: ${ticks.sort().join(',')}`);
      assert.ok(ticks.length >= until - since, `ticks missing: ${ticks.length} of ${until - since + 1}`);
    } finally {
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      await Promise.all([a.exited, b.exited]);
    }
  });

  it('a job holder killed with kill -9: another instance takes over once the lease expires', async () => {
    const def = jobNamed('resend-refunds')!;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/hold-lease.ts', def.name, '3000'], {
      env: testEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitFor('the holder to take the lease', 30_000, () => out.includes('READY'));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const killedAt = Date.now();
    assert.equal((await runJob(ctx, def)).status, 'skipped', 'ran while the dead holder’s lease was alive');
    const r = await waitFor('the lease to expire', 10_000, async () => {
      const x = await runJob(ctx, def);
      return x.status === 'ok' ? x : undefined;
    });
    assert.equal(r.status, 'ok');
    assert.ok(Date.now() - killedAt < 6000);
    const metrics = await ctx.metrics.getSingleMetricAsString('qianfan_job_runs_total');
    assert.match(metrics, /job="resend-refunds",result="ok"/);
    assert.match(metrics, /job="resend-refunds",result="skipped"/);
  });

  it('kill -9 during a backfill: the rerun resumes, and its result equals an uninterrupted run', async () => {
    // Some orders, one with a drifted total.
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 500 }]);
    const made = [];
    for (let i = 0; i < 60; i++)
      made.push(
        (await createOrder(ctx, { userId: 77_000_000n + BigInt(i), items: [{ skuId: sku!, quantity: 1 }], address }))
          .order.id,
      );
    await ctx.db.update(orders).set({ itemsAmount: 99 }).where(eq(orders.id, made[10]!));
    await ctx.db.delete(backfillRuns).where(eq(backfillRuns.name, 'order-totals'));
    const child = spawn(
      process.execPath,
      ['bin/qianfan-order.js', 'backfill', 'order-totals', '--batch-size', '20', '--sleep-ms', '300'],
      {
        env: testEnv(),
        stdio: 'ignore',
      },
    );
    await waitFor(
      'a checkpoint',
      60_000,
      async () => {
        const [r] = await ctx.db.select().from(backfillRuns).where(eq(backfillRuns.name, 'order-totals'));
        return r && r.processed >= 60;
      },
      20,
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const [cut] = await ctx.db.select().from(backfillRuns).where(eq(backfillRuns.name, 'order-totals'));
    assert.equal(cut?.status, 'RUNNING');
    const resumed = cli(['backfill', 'order-totals', '--batch-size', '20', '--sleep-ms', '0', '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const r1 = JSON.parse(resumed.stdout.trim().split('\n').pop()!);
    assert.equal(r1.resumedFrom, String(cut!.lastId));
    const fresh = cli(['backfill', 'order-totals', '--batch-size', '7', '--sleep-ms', '0', '--json']);
    const r2 = JSON.parse(fresh.stdout.trim().split('\n').pop()!);
    assert.equal(r2.resumedFrom, null);
    assert.equal(r1.processed, r2.processed);
    assert.equal(r1.findings, r2.findings);
    assert.ok(r2.findings >= 1);
    assert.ok(r2.notes.includes(`order ${made[10]}: items_amount 99, items sum 100`), JSON.stringify(r2.notes));
    const status = cli(['backfill', 'status', '--json']);
    assert.equal(JSON.parse(status.stdout).find((s: { name: string }) => s.name === 'order-totals').status, 'DONE');
    await ctx.db.update(orders).set({ itemsAmount: 100 }).where(eq(orders.id, made[10]!));
  });

  it('import skus: a CSV with bad lines imports nothing and reports every bad line; a good one upserts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qf-csv-'));
    const base = 88_000_000_000n + BigInt(Date.now() % 1_000_000) * 10n;
    const bad = path.join(dir, 'bad.csv');
    writeFileSync(
      bad,
      [
        'id,title,price,currency,available,status',
        `${base},"Tea, green",1200,CNY,10,ON_SALE`,
        `${base + 1n},Cup,-5,CNY,10,ON_SALE`,
        `x,Bowl,100,CNY,10,ON_SALE`,
        `${base + 2n},Pot,100,cny,10,ON_SALE`,
        `${base},Again,100,CNY,10,ON_SALE`,
        `${base + 3n},Lid,100,CNY,10`,
      ].join('\n'),
    );
    const r = cli(['import', 'skus', bad]);
    assert.equal(r.status, 1);
    for (const n of [3, 4, 5, 6, 7]) assert.match(r.stderr, new RegExp(`bad.csv:${n}: `));
    assert.doesNotMatch(r.stderr, /bad\.csv:2:/);
    assert.match(r.stderr, /nothing was imported/);
    assert.equal((await ctx.db.select().from(skus).where(eq(skus.id, base))).length, 0);

    const good = path.join(dir, 'good.csv');
    writeFileSync(
      good,
      `id,title,price,currency,available,status\n${base},"Tea, green",1200,CNY,10,ON_SALE\n${base + 1n},Cup,500,CNY,3,OFF_SALE\n`,
    );
    assert.equal(cli(['import', 'skus', good, '--dry-run']).status, 0);
    assert.equal((await ctx.db.select().from(skus).where(eq(skus.id, base))).length, 0);
    const ok = cli(['import', 'skus', good, '--json']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).imported, 2);
    writeFileSync(good, `id,title,price,currency,available,status\n${base},Tea,1300,CNY,20,ON_SALE\n`);
    assert.equal(cli(['import', 'skus', good]).status, 0);
    const rows = await ctx.db
      .select()
      .from(skus)
      .where(inArray(skus.id, [base, base + 1n]));
    const tea = rows.find((x) => x.id === base)!;
    assert.deepEqual([tea.title, tea.price, tea.available], ['Tea', 1300, 20]);
    assert.equal(rows.find((x) => x.id === base + 1n)?.status, 'OFF_SALE');
  });

  it('order show / find / cancel, events replay, job list and run, migrate status', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 250, available: 5 }]);
    const { order } = await createOrder(ctx, { userId: 66_000_001n, items: [{ skuId: sku!, quantity: 2 }], address });
    const show = cli(['order', 'show', String(order.id), '--json']);
    assert.equal(show.status, 0, show.stderr);
    const d = JSON.parse(show.stdout);
    assert.equal(d.order.totalAmount, 500);
    assert.equal(d.items.length, 1);
    assert.equal(d.history[0].toStatus, 'PENDING_PAYMENT');
    assert.equal(d.events[0].eventType, 'order.created');
    assert.match(cli(['order', 'show', String(order.id)]).stdout, /events \(order_event\):\n {2}.* order\.created/);
    const found = JSON.parse(cli(['order', 'find', '--order-no', order.orderNo, '--json']).stdout);
    assert.equal(found[0].id, String(order.id));
    assert.match(
      cli(['order', 'cancel', String(order.id), '--reason', 'test', '--dry-run']).stdout,
      /would be cancelled/,
    );
    assert.equal(
      (await ctx.db.select(orderColumns).from(orders).where(eq(orders.id, order.id)))[0]?.status,
      'PENDING_PAYMENT',
    );
    const replay = cli(['events', 'replay', '--order', String(order.id), '--json']);
    assert.equal(replay.status, 0, replay.stderr);
    assert.equal(JSON.parse(replay.stdout.trim().split('\n').pop()!).replayed, 1);
    const cancel = cli(['order', 'cancel', String(order.id), '--reason', 'test']);
    assert.equal(cancel.status, 0, cancel.stderr);
    assert.equal(
      (await ctx.db.select(orderColumns).from(orders).where(eq(orders.id, order.id)))[0]?.status,
      'CANCELLED',
    );
    const list = JSON.parse(cli(['job', 'list', '--json']).stdout);
    assert.ok(list.some((j: { name: string }) => j.name === 'close-expired-orders'));
    const run = cli(['job', 'run', 'cleanup-expired', '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).status, 'ok');
    assert.match(cli(['job', 'run', 'cleanup-expired', '--dry-run']).stdout, /cleanup-expired: would run now/);
    assert.match(cli(['migrate', '--dry-run']).stdout, /up to date/);
    assert.match(cli(['seed', '--dry-run']).stdout, /would seed 10001/);
    const rec = cli(['reconcile', 'payments', '--dry-run', '--pending-after', '0', '--json']);
    assert.equal(rec.status, 0, rec.stderr);
    assert.ok(
      JSON.parse(rec.stdout).findings.every((f: { fixed: boolean }) => !f.fixed),
      'a dry run fixed something',
    );
    const st = JSON.parse(cli(['migrate', 'status', '--json']).stdout);
    assert.ok(st.length >= 5 && st.every((m: { applied: boolean }) => m.applied));
  });

  it('every command refuses bad usage with exit 2 and a message saying what to do', () => {
    const cases: Array<[string[], RegExp]> = [
      [['order', 'show', 'abc'], /expected a decimal order id/],
      [['order', 'find'], /give exactly one of --user <id> or --order-no <no>/],
      [['order', 'cancel', '1'], /required option '--reason <text>'/],
      [['job', 'run', 'nope'], /no job 'nope'; see qianfan-order job list/],
      [['backfill', 'nope'], /no backfill 'nope'; choose one of/],
      [['backfill', 'order-totals', '--batch-size', '0'], /expected a whole number from 1 to 10000/],
      [['import', 'skus', '/nonexistent.csv'], /cannot read \/nonexistent\.csv/],
      [['events', 'replay'], /give exactly one of --order <id> or --since <time>/],
      [['events', 'replay', '--since', 'yesterday'], /expected an ISO-8601 time/],
      [['dlq', 'replay'], /name the dead-letter ids to replay, or --all/],
      [['refund', 'retry', 'x'], /is not a refund id/],
      [['reconcile', 'flash-sale', 'x'], /is not a flash sale id/],
      [['token'], /required option '-u, --user <id>'/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    for (const c of ['order', 'job', 'backfill', 'import', 'events', 'migrate']) {
      const h = cli([c, '--help']);
      assert.equal(h.status, 0);
    }
    for (const sub of [
      ['order', 'show'],
      ['job', 'run'],
      ['import', 'skus'],
      ['events', 'replay'],
      ['migrate', 'status'],
    ]) {
      assert.match(cli([...sub, '--help']).stdout, /Usage: qianfan-order/);
    }
    assert.match(cli(['backfill', '--help']).stdout, /Examples?:/);
  });
});
