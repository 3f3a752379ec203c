// Order export (`qianfan-order order export`, compiled, as production runs it) over 100,000 orders, beside
// a ceiling measured in the same run: the same rows streamed straight out of MySQL by one mysql2 query and
// written as CSV by the same cell formatting, with nothing else (no search windows, no pages, no items
// query). Also the export's peak RSS at 10,000 and at 100,000 orders under one heap cap (below).
// Needs MariaDB (and Redis, etcd and RocketMQ for the service context): bash deploy/local/infra.sh up.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mysql from 'mysql2';
import { executeSql } from '../internal/model/index.js';
import { csvLine, maskPhone, yuan } from '../internal/order/export-orders.js';
import { benchEnv, machine, openBenchContext, pct, rssPeak, saveResult } from './lib.js';

const ORDERS = Number(process.env.BENCH_EXPORT_ORDERS ?? 100_000);
const SMALL = Math.round(ORDERS / 10);
const env = { ...benchEnv, QIANFAN_MYSQL__DATABASE: 'qianfan_order_bench_export', NODE_ENV: 'production' };

const { config, ctx } = await openBenchContext(env, { freshDatabase: true });
process.stdout.write(`seeding ${ORDERS} orders (1-2 lines each) ...\n`);
const seedStart = Date.now();
const baseMs = Date.now() - 30 * 86_400_000;
let lines = 0;
for (let done = 0; done < ORDERS; ) {
  const n = Math.min(2000, ORDERS - done);
  const orderRows: unknown[] = [];
  const itemRows: unknown[] = [];
  for (let k = 0; k < n; k++) {
    const id = ctx.ids.next();
    const created = new Date(baseMs + (done + k) * 20);
    const two = (done + k) % 3 === 0;
    const total = two ? 1234 + 2 * 500 : 1234;
    orderRows.push([
      id,
      `QF${id.toString().padStart(19, '0')}`,
      100_000n + BigInt((done + k) % 20_000),
      (done + k) % 4 === 0 ? 'PENDING_PAYMENT' : 'PAID',
      'CNY',
      total,
      total,
      (done + k) % 4 === 0 ? 0 : total,
      JSON.stringify({
        name: '王小明',
        phone: `138${String(10_000_000 + ((done + k) % 90_000_000)).slice(-8)}`,
        province: '浙江省',
        city: '杭州市',
        district: '西湖区',
        detail: `龙井路 ${done + k} 号, "东门"`,
      }),
      'APP',
      new Date(created.getTime() + 30 * 60_000),
      created,
      created,
    ]);
    itemRows.push([ctx.ids.next(), id, 9001n, '西湖龙井 250g', 1234, 1, 1234, created]);
    lines++;
    if (two) {
      itemRows.push([ctx.ids.next(), id, 9002n, '青瓷杯', 500, 2, 1000, created]);
      lines++;
    }
  }
  await executeSql(
    ctx.db,
    'INSERT INTO orders (id, order_no, user_id, status, currency, items_amount, total_amount, paid_amount, address, source, pay_deadline, created_at, updated_at) VALUES ?',
    [orderRows],
  );
  await executeSql(
    ctx.db,
    'INSERT INTO order_items (id, order_id, sku_id, title, unit_price, quantity, line_total, created_at) VALUES ?',
    [itemRows],
  );
  done += n;
}
process.stdout.write(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);

/** The ceiling: one streamed query of the same orders, the same cells, written to a file. */
async function ceiling(limit: number, file: string) {
  const conn = mysql.createConnection({
    host: config.mysql.host,
    port: config.mysql.port,
    user: config.mysql.user,
    password: config.mysql.password,
    database: config.mysql.database,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const out = createWriteStream(file);
  const started = performance.now();
  out.write('\uFEFForder_no\r\n');
  let rows = 0;
  const stream = conn.query(`SELECT * FROM orders ORDER BY id DESC LIMIT ${limit}`).stream();
  for await (const r of stream as AsyncIterable<Record<string, unknown>>) {
    const a = (typeof r.address === 'string' ? JSON.parse(r.address) : r.address) as Record<string, string>;
    const cells = [
      String(r.order_no),
      String(r.id),
      String(r.user_id),
      String(r.status),
      String(r.source),
      String(r.currency),
      yuan(Number(r.items_amount)),
      yuan(Number(r.shipping_fee)),
      yuan(Number(r.discount_amount)),
      yuan(Number(r.total_amount)),
      yuan(Number(r.paid_amount)),
      yuan(Number(r.refunded_amount)),
      (r.created_at as Date).toISOString(),
      '',
      '',
      '',
      '',
      '',
      a.name ?? '',
      maskPhone(a.phone ?? ''),
      a.province ?? '',
      a.city ?? '',
      a.district ?? '',
      a.detail ?? '',
      String(r.note),
    ];
    if (!out.write(csvLine(cells))) await once(out, 'drain');
    rows++;
  }
  out.end();
  await once(out, 'finish');
  conn.end();
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/** The export as an operator runs it: the compiled CLI, to a file, its peak RSS sampled. */
async function exportCli(args: string[], file: string, nodeFlags: string[] = []) {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeFlags, 'dist/script/main.js', 'order', 'export', ...args, '--out', file],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const peak = rssPeak(child.pid as number);
  const [code] = await once(child, 'exit');
  const rss = peak();
  if (code !== 0) throw new Error(`export exited ${code}: ${stderr}`);
  return { seconds: (performance.now() - started) / 1000, rssPeakMiB: rss, bytes: statSync(file).size, stderr };
}

process.stdout.write('building (npm run build) ...\n');
if (spawnSync('npm', ['run', 'build'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const dir = tmpdir();
const from = new Date(baseMs - 60_000).toISOString();
// The newest SMALL orders: created within their first SMALL * 20 ms from the end.
const smallFrom = new Date(baseMs + (ORDERS - SMALL) * 20).toISOString();

const ceil = await ceiling(ORDERS, path.join(dir, 'qf-export-ceiling.csv'));
const big = await exportCli(['--created-from', from], path.join(dir, 'qf-export-100k.csv'));
const bigLines = await exportCli(['--created-from', from, '--lines'], path.join(dir, 'qf-export-100k-lines.csv'));
// V8 grows its heap lazily, so an uncapped process's peak RSS grows with the work done even when what it
// holds does not. The memory check caps the old generation (HEAP_CAP_MIB) and exports 10x the orders:
// constant memory means both finish under the same cap with the same peak RSS.
const HEAP_CAP_MIB = 96;
const capped = [`--max-old-space-size=${HEAP_CAP_MIB}`];
const small = await exportCli(['--created-from', smallFrom], path.join(dir, 'qf-export-10k.csv'), capped);
const bigCapped = await exportCli(
  ['--created-from', from, '--lines'],
  path.join(dir, 'qf-export-100k-capped.csv'),
  capped,
);
const result = {
  machine: machine(),
  orders: ORDERS,
  lines,
  ceiling: { ordersPerSecond: Math.round(ceil.rows / ceil.seconds), seconds: ceil.seconds },
  export: {
    ordersPerSecond: Math.round(ORDERS / big.seconds),
    seconds: big.seconds,
    bytes: big.bytes,
    rssPeakMiB: big.rssPeakMiB,
    ofCeiling: pct(ORDERS / big.seconds, ceil.rows / ceil.seconds),
  },
  exportLines: {
    rowsPerSecond: Math.round(lines / bigLines.seconds),
    seconds: bigLines.seconds,
    rssPeakMiB: bigLines.rssPeakMiB,
  },
  heapCapped: {
    oldSpaceMiB: HEAP_CAP_MIB,
    small: { orders: SMALL, seconds: small.seconds, rssPeakMiB: small.rssPeakMiB },
    big: { orders: ORDERS, rows: lines, seconds: bigCapped.seconds, rssPeakMiB: bigCapped.rssPeakMiB },
    rssPeakRatio: Number((bigCapped.rssPeakMiB / small.rssPeakMiB).toFixed(2)),
  },
};
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`saved ${saveResult('export', result)}\n`);
await ctx.close();
process.exit(0);
