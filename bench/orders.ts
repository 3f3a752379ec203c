// Order read and write paths, each beside a ceiling measured in the same run:
//   - cached GET /v1/orders/{id} and GET /v1/orders vs a bare Fastify route with a body of the same size;
//   - POST /v1/orders vs the same SQL transaction through mysql2 (same pool size) plus the same RocketMQ
//     sends through the same client, in sequence, at the same concurrency;
//   - gRPC GetOrder / CreateOrder vs a bare grpc-js unary call (and the create ceiling);
//   - payment results applied per second (sandbox webhook -> consumer -> PAID) for 1,000 orders;
//   - RSS of every process idle and under load, run as production runs them (compiled JavaScript).
// Needs MariaDB, Redis, etcd and RocketMQ (npm run dev, or bash deploy/local/infra.sh up).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata } from '@grpc/grpc-js';
import { inArray, sql } from 'drizzle-orm';
import { signDevToken } from '../internal/auth/index.js';
import { orders as ordersTable, skus } from '../internal/model/index.js';
import { newEnvelope, topics } from '../internal/mq/index.js';
import { createOrder, newOrderRows } from '../internal/order/index.js';
import { startPayment } from '../internal/payment/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { type Order, OrderServiceClient } from '../pkg/gen/qianfan/order/v1/order.js';
import {
  benchEnv,
  closedLoop,
  cpuMeter,
  httpOk,
  infraPids,
  load,
  machine,
  openBenchContext,
  pct,
  rssPeak,
  saveResult,
  sleep,
  startProcess,
} from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const READ_CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const WRITE_CONNECTIONS = 32;
const PAYMENTS = 1000;
// V8 shrinks a heap that stopped growing once it has been idle a while (its memory reducer): an idle
// restful holds about 148 MiB until then and about 111 MiB after; traced with --trace-gc, the reducer
// ran 24 s after start, close enough to 30 s that one reading in three caught the process before it.
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const env = { ...benchEnv, NODE_ENV: 'production' };
const http = `http://127.0.0.1:${env.QIANFAN_HTTP__PORT}`;
const BARE_HTTP = 28999;
const BARE_GRPC = 29999;
const address = {
  name: 'Li Lei',
  phone: '13800000000',
  province: 'Zhejiang',
  city: 'Hangzhou',
  district: 'Xihu',
  detail: '1 Longjing Rd',
};

async function main() {
  const { config, ctx } = await openBenchContext(env);
  process.stderr.write('[bench] npm run build (the processes run compiled, as in production)\n');
  const build = spawnSync('npm', ['run', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');

  // Two SKUs with stock for every run, a user per detail order, and users with a page of 10 orders.
  const skuIds = [ctx.ids.next(), ctx.ids.next()].sort((a, b) => (a < b ? -1 : 1));
  await ctx.db
    .insert(skus)
    .values(skuIds.map((id, i) => ({ id, title: `bench sku ${i}`, price: 4900 + i, currency: 'CNY', available: 1e8 })));
  const base = 5_000_000 + (Date.now() % 1_000_000) * 10;
  const detailUsers = Array.from({ length: 300 }, (_, i) => BigInt(base + i));
  const listUsers = Array.from({ length: 20 }, (_, i) => BigInt(base + 1000 + i));
  const items = skuIds.map((skuId) => ({ skuId, quantity: 1 }));
  const create = (userId: bigint) => createOrder(ctx, { userId, items, address, source: 'APP' });
  process.stderr.write('[bench] seeding 500 orders\n');
  const detailOrders = await inParallel(detailUsers, 16, async (u) => (await create(u)).order.id);
  await inParallel(
    listUsers.flatMap((u) => Array(10).fill(u) as bigint[]),
    16,
    create,
  );
  const token = (u: bigint) => signDevToken(config.auth, { userId: String(u), roles: ['user'] }, 3600);
  const detailTokens = await Promise.all(detailUsers.map(token));
  const listTokens = await Promise.all(listUsers.map(token));

  // --- RSS idle: every process started as production starts it, then left alone for IDLE_SECONDS ---
  const restful = await startProcess('dist/restful/main.js', env, httpOk(`${http}/healthz`));
  const others = await startOthers();
  process.stderr.write(`[bench] all four processes up; idle for ${IDLE_SECONDS} s\n`);
  await sleep(IDLE_SECONDS * 1000);
  const idle: Record<string, number> = { restful: restful.rssMiB() };
  for (const [name, p] of Object.entries(others)) idle[name] = p.rssMiB();
  await Promise.all(Object.values(others).map((p) => p.stop()));

  // --- HTTP ---
  for (const [i, id] of detailOrders.entries()) {
    await fetch(`${http}/v1/orders/${id}`, { headers: { authorization: `Bearer ${detailTokens[i]}` } });
  }
  const detailBytes = (
    await (await fetch(`${http}/v1/orders/${detailOrders[0]}`, { headers: auth(detailTokens[0]!) })).text()
  ).length;
  const listBytes = (await (await fetch(`${http}/v1/orders?limit=10`, { headers: auth(listTokens[0]!) })).text())
    .length;

  let n = 0;
  const detailReq = () => {
    const i = n++ % detailOrders.length;
    return { headers: auth(detailTokens[i]!), path: `/v1/orders/${detailOrders[i]}` };
  };
  const listReq = () => ({ headers: auth(listTokens[n++ % listTokens.length]!), path: '/v1/orders?limit=10' });
  const bareDetail = await bareHttp(detailBytes, detailReq);
  const bareList = await bareHttp(listBytes, listReq);
  await load({ url: `${http}/v1/orders/${detailOrders[0]}`, connections: 8, seconds: 2, setup: detailReq });
  let peak = rssPeak(restful.child.pid!);
  // CPU µs per request of the process under test and of the shared infrastructure (docs/scaling.md).
  const infra = infraPids();
  const cpu: Record<string, Record<string, number>> = {};
  let meter = cpuMeter({ restful: restful.child.pid!, ...infra });
  const detail = await load({ url: http, connections: READ_CONNECTIONS, seconds: SECONDS, setup: detailReq });
  cpu.detail = meter(detail.requests);
  meter = cpuMeter({ restful: restful.child.pid!, ...infra });
  const list = await load({ url: http, connections: READ_CONNECTIONS, seconds: SECONDS, setup: listReq });
  cpu.list = meter(list.requests);
  const loaded: Record<string, number> = { restful: peak() };

  // The ceiling spreads its orders over the same buyers as the route (the caps query reads the buyer's).
  const ceilingCreate = (i: number) => rawCreate(ctx, skuIds, detailUsers[i % detailUsers.length]);
  const createBody = JSON.stringify({ items: items.map((i) => ({ ...i, skuId: String(i.skuId) })), address });
  const createReq = () => ({
    headers: {
      ...auth(detailTokens[n++ % detailTokens.length]!),
      'idempotency-key': randomUUID(),
      'content-type': 'application/json',
    },
    body: createBody,
  });
  // Not measured: a few seconds of each write path first, so the broker's and our JIT and the pools are
  // warm (a broker started minutes before runs its first thousand transaction messages much slower).
  await closedLoop(WRITE_CONNECTIONS, 5, ceilingCreate);
  await load({ url: `${http}/v1/orders`, method: 'POST', connections: 8, seconds: 3, setup: createReq });
  // The database grows and the machine drifts during a run: the ceiling is measured before and after the
  // real run (restful idle meanwhile) and averaged.
  const ceilingBefore = await closedLoop(WRITE_CONNECTIONS, SECONDS, ceilingCreate);
  meter = cpuMeter({ restful: restful.child.pid!, ...infra });
  const createHttp = await load({
    url: `${http}/v1/orders`,
    method: 'POST',
    connections: WRITE_CONNECTIONS,
    seconds: SECONDS,
    setup: createReq,
  });
  cpu.create = meter(createHttp.status2xx);
  const ceilingAfter = await closedLoop(WRITE_CONNECTIONS, SECONDS, ceilingCreate);
  await restful.stop();
  const createCeiling = {
    rps: Math.round((ceilingBefore.rps + ceilingAfter.rps) / 2),
    p50: Math.round((ceilingBefore.p50 + ceilingAfter.p50) / 2),
    p99: Math.round((ceilingBefore.p99 + ceilingAfter.p99) / 2),
    before: ceilingBefore,
    after: ceilingAfter,
  };

  // --- gRPC ---
  const service = await startProcess(
    'dist/service/main.js',
    env,
    httpOk(`http://127.0.0.1:${env.QIANFAN_ADMIN__SERVICE_PORT}/readyz`),
  );
  await sleep(1000);
  const client = new OrderServiceClient(`127.0.0.1:${env.QIANFAN_GRPC__PORT}`, credentials.createInsecure());
  const md = new Metadata();
  md.set('x-service-token', config.grpc.serviceTokens[0]!.token);
  const rpc = <T>(c: OrderServiceClient, method: 'getOrder' | 'createOrder', req: object) =>
    new Promise<T>((resolve, reject) =>
      (c[method] as (...a: unknown[]) => void)(req, md, (err: Error | null, res: T) =>
        err ? reject(err) : resolve(res),
      ),
    );
  const getReq = (i: number) => ({ orderId: String(detailOrders[i % detailOrders.length]), userId: '' });
  const sample = await rpc<{ order: Order }>(client, 'getOrder', getReq(0));
  const bare = await startProcess('bench/bare-grpc.ts', {}, async () => true, [
    String(BARE_GRPC),
    JSON.stringify(sample.order),
  ]);
  await sleep(1500);
  const bareClient = new OrderServiceClient(`127.0.0.1:${BARE_GRPC}`, credentials.createInsecure());
  await closedLoop(8, 2, (i) => rpc(bareClient, 'getOrder', getReq(i)));
  const bareGet = await closedLoop(READ_CONNECTIONS, SECONDS, (i) => rpc(bareClient, 'getOrder', getReq(i)));
  bareClient.close();
  await bare.stop();
  await closedLoop(8, 2, (i) => rpc(client, 'getOrder', getReq(i)));
  peak = rssPeak(service.child.pid!);
  meter = cpuMeter({ service: service.child.pid!, ...infra });
  const grpcGet = await closedLoop(READ_CONNECTIONS, SECONDS, (i) => rpc(client, 'getOrder', getReq(i)));
  cpu.grpcGet = meter(grpcGet.requests);
  const grpcCeiling = await closedLoop(WRITE_CONNECTIONS, SECONDS, ceilingCreate);
  meter = cpuMeter({ service: service.child.pid!, ...infra });
  const grpcCreate = await closedLoop(WRITE_CONNECTIONS, SECONDS, (i) =>
    rpc(client, 'createOrder', {
      requestId: randomUUID(),
      userId: String(detailUsers[i % detailUsers.length]),
      items: items.map((l) => ({ skuId: String(l.skuId), quantity: 1 })),
      address: { ...address, postcode: '' },
      note: '',
    }),
  );
  cpu.grpcCreate = meter(grpcCreate.requests);
  loaded.service = peak();
  client.close();
  await service.stop();

  // --- payment results: sandbox webhook -> payment_notify -> consumer -> PAID ---
  process.stderr.write(`[bench] ${PAYMENTS} orders with a started payment\n`);
  const payUsers = Array.from({ length: PAYMENTS }, (_, i) => BigInt(base + 2000 + i));
  const payments = await inParallel(payUsers, 16, async (u) => {
    const { order } = await create(u);
    return (await startPayment(ctx, { orderId: order.id, userId: u })).payment;
  });
  const consumer = await startProcess(
    'dist/consumer/main.js',
    env,
    httpOk(`http://127.0.0.1:${env.QIANFAN_ADMIN__CONSUMER_PORT}/readyz`),
  );
  const job = await startProcess(
    'dist/job/main.js',
    env,
    httpOk(`http://127.0.0.1:${env.QIANFAN_ADMIN__JOB_PORT}/readyz`),
  );
  const restful2 = await startProcess('dist/restful/main.js', env, httpOk(`${http}/healthz`));
  await sleep(3000);
  peak = rssPeak(consumer.child.pid!);
  meter = cpuMeter({ restful: restful2.child.pid!, consumer: consumer.child.pid!, job: job.child.pid!, ...infra });
  const started = Date.now();
  await inParallel(payments, WRITE_CONNECTIONS, async (p) => {
    const r = await fetch(`${http}/v1/sandbox/payments/${p.id}/succeed`, { method: 'POST' });
    if (r.status !== 202) throw new Error(`sandbox webhook answered ${r.status}: ${await r.text()}`);
  });
  const webhookSeconds = (Date.now() - started) / 1000;
  const orderIds = payments.map((p) => p.orderId);
  let paid = 0;
  while (Date.now() - started < 300_000) {
    const [row] = await ctx.db
      .select({ n: sql<string>`COUNT(*)` })
      .from(ordersTable)
      .where(sql`${inArray(ordersTable.id, orderIds)} AND ${ordersTable.status} = 'PAID'`);
    paid = Number(row?.n ?? 0);
    if (paid >= PAYMENTS) break;
    await sleep(100);
  }
  const paySeconds = (Date.now() - started) / 1000;
  cpu.payment = meter(paid);
  loaded.consumer = peak();
  await Promise.all([restful2.stop(), consumer.stop(), job.stop()]);

  const result = {
    machine: machine(),
    load: { readConnections: READ_CONNECTIONS, writeConnections: WRITE_CONNECTIONS, seconds: SECONDS },
    http: { detailBytes, listBytes, bareDetail, detail, bareList, list, create: createHttp, createCeiling },
    grpc: { bareGet, get: grpcGet, create: grpcCreate, createCeiling: grpcCeiling },
    payments: {
      orders: PAYMENTS,
      paid,
      webhookSeconds,
      seconds: paySeconds,
      perSecond: Math.round(paid / paySeconds),
    },
    rssMiB: { idle, loaded },
    cpuMicrosPerRequest: cpu,
  };
  const file = saveResult('orders', result);
  const row = (name: string, r: { rps: number; p50: number; p99: number }, vs: string) =>
    `| ${name} | ${r.rps} | ${r.p50} | ${r.p99} | ${vs} |`;
  process.stdout.write(
    [
      '| measurement | per second | p50 ms | p99 ms | ratio |',
      '| --- | --- | --- | --- | --- |',
      row(`bare Fastify GET, ${detailBytes} B body (ceiling)`, bareDetail, '—'),
      row('GET /v1/orders/{id}, cached', detail, `${pct(detail.rps, bareDetail.rps)} of bare Fastify (target ≥ 50 %)`),
      row(`bare Fastify GET, ${listBytes} B body (ceiling)`, bareList, '—'),
      row('GET /v1/orders?limit=10', list, `${pct(list.rps, bareList.rps)} of bare Fastify (target ≥ 50 %)`),
      row(
        `create ceiling: same SQL via mysql2 + same broker sends, ${WRITE_CONNECTIONS} in flight (mean of before/after)`,
        createCeiling,
        '—',
      ),
      row(
        'POST /v1/orders (2 SKUs, JWT, Idempotency-Key)',
        createHttp,
        `${pct(createHttp.rps, createCeiling.rps)} of the ceiling (target ≥ 60 %)`,
      ),
      row('bare grpc-js unary GetOrder (ceiling)', bareGet, '—'),
      row('gRPC GetOrder, cached', grpcGet, `${pct(grpcGet.rps, bareGet.rps)} of bare grpc-js (target ≥ 50 %)`),
      row('create ceiling, measured again just before gRPC CreateOrder', grpcCeiling, '—'),
      row('gRPC CreateOrder', grpcCreate, `${pct(grpcCreate.rps, grpcCeiling.rps)} of the create ceiling`),
      `| payment results applied (webhook -> PAID), ${PAYMENTS} orders | ${result.payments.perSecond} | — | — | ${pct(result.payments.perSecond, createCeiling.rps)} of the create ceiling |`,
      '',
      `| CPU µs per request | ${Object.keys(infra).join(' | ')} | process |`,
      `| --- | ${Object.keys(infra)
        .map(() => '---')
        .join(' | ')} | --- |`,
      ...Object.entries(cpu).map(
        ([run, c]) =>
          `| ${run} | ${Object.keys(infra)
            .map((k) => c[k] ?? '—')
            .join(' | ')} | ${Object.entries(c)
            .filter(([k]) => !(k in infra))
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')} |`,
      ),
      '',
      `| process | RSS idle MiB | RSS under load MiB |`,
      '| --- | --- | --- |',
      ...Object.keys(idle).map((p) => `| ${p} | ${idle[p]} | ${loaded[p] ?? '—'} |`),
      '',
      `saved ${file}`,
      '',
    ].join('\n'),
  );
  await ctx.close();
}

/** service, consumer and job, compiled, each ready on its admin port. */
async function startOthers() {
  const admin = (port: string) => httpOk(`http://127.0.0.1:${port}/readyz`);
  return {
    service: await startProcess('dist/service/main.js', env, admin(env.QIANFAN_ADMIN__SERVICE_PORT)),
    consumer: await startProcess('dist/consumer/main.js', env, admin(env.QIANFAN_ADMIN__CONSUMER_PORT)),
    job: await startProcess('dist/job/main.js', env, admin(env.QIANFAN_ADMIN__JOB_PORT)),
  };
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

/** The bare route with the same load-generator work per request (token, path). */
async function bareHttp(bytes: number, setup: () => { headers: Record<string, string>; path: string }) {
  const bare = await startProcess('bench/bare-fastify.ts', {}, httpOk(`http://127.0.0.1:${BARE_HTTP}/bare`), [
    String(BARE_HTTP),
    String(bytes),
  ]);
  try {
    await load({ url: `http://127.0.0.1:${BARE_HTTP}/bare`, connections: 8, seconds: 2 });
    return await load({
      url: `http://127.0.0.1:${BARE_HTTP}/bare`,
      connections: READ_CONNECTIONS,
      seconds: SECONDS,
      setup: () => ({ headers: setup().headers, path: '/bare' }),
    });
  } finally {
    await bare.stop();
  }
}

async function inParallel<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * The create ceiling: what POST /v1/orders asks of MySQL and the broker, in the same sequence, without
 * the service's code: the Idempotency-Key claim, the buyer's unpaid orders and units (the per-user caps),
 * the SKU read, then a transaction message (half, the
 * transaction: the order, its items, the status log, the key's answer, the tx-log row, the stock
 * reservation of both SKUs last in one UPDATE; commit), the cache tombstone and the payment-deadline delay message.
 */
export async function rawCreate(ctx: ServiceContext, skuIds: bigint[], userId = 1n) {
  const pool = ctx.pool;
  const key = randomUUID();
  const scope = 'bench:POST:/v1/orders';
  await pool.query(
    'INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
    [scope, key, 'h'.repeat(64), 'IN_FLIGHT', new Date(), new Date(Date.now() + 86_400_000)],
  );
  await pool.query(
    "SELECT COUNT(DISTINCT o.id) AS orders, SUM(i.quantity) AS units FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.user_id = ? AND o.status = 'PENDING_PAYMENT'",
    [userId],
  );
  await pool.query('SELECT * FROM skus WHERE id IN (?, ?)', skuIds);
  const n = newOrderRows(ctx, {
    userId,
    lines: skuIds.map((skuId) => ({ skuId, title: 'bench sku', unitPrice: 4900, quantity: 1, lineTotal: 4900 })),
    itemsAmount: 9800,
    currency: 'CNY',
    address,
    source: 'APP',
    actor: { type: 'USER', id: String(userId) },
    now: new Date(),
  });
  const o = n.order;
  await ctx.mq!.sendInTransaction(n.message, async (ltx) => {
    const c = await pool.getConnection();
    try {
      await c.query('START TRANSACTION');
      await c.query(
        'INSERT INTO orders (id, order_no, user_id, status, currency, items_amount, shipping_fee, discount_amount, total_amount, paid_amount, refunded_amount, address, note, source, version, pay_deadline, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, 0, 0, ?, ?, ?, 0, ?, ?, ?)',
        [
          o.id,
          o.orderNo,
          o.userId,
          o.status,
          o.currency,
          o.itemsAmount,
          o.totalAmount,
          JSON.stringify(o.address),
          o.note,
          o.source,
          o.payDeadline,
          o.createdAt,
          o.updatedAt,
        ],
      );
      await c.query(
        'INSERT INTO order_items (id, order_id, sku_id, title, unit_price, quantity, line_total, created_at) VALUES ?',
        [n.items.map((i) => [i.id, i.orderId, i.skuId, i.title, i.unitPrice, i.quantity, i.lineTotal, i.createdAt])],
      );
      await c.query(
        'INSERT INTO order_status_log (id, order_id, from_status, to_status, version, actor_type, actor_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        [n.log.id, o.id, '', 'PENDING_PAYMENT', 0, 'USER', String(userId), 'created'],
      );
      await c.query(
        "UPDATE idempotency_keys SET status = 'DONE', response_status = 200, response_body = ? WHERE scope = ? AND idem_key = ?",
        [
          JSON.stringify({ ok: { status: 201, body: o } }, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
          scope,
          key,
        ],
      );
      await c.query(
        'INSERT INTO mq_tx_log (id, event_id, topic, event_type, message_key, payload) VALUES (?, ?, ?, ?, ?, ?)',
        [ctx.ids.next(), n.message.envelope.eventId, n.message.topic, n.message.envelope.type, n.message.key, '{}'],
      );
      const qty = `CASE id ${skuIds.map(() => 'WHEN ? THEN 1').join(' ')} END`;
      await c.query(
        `UPDATE skus SET available = available - ${qty}, reserved = reserved + ${qty}, version = version + 1 WHERE id IN (?) AND available >= ${qty} AND status = 'ON_SALE'`,
        [...skuIds, ...skuIds, skuIds, ...skuIds],
      );
      ltx.beforeCommit();
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK');
      throw err;
    } finally {
      c.release();
    }
    return {};
  });
  await ctx.redis.set(`bench:tombstone:${o.id}`, '0', 'PX', 60_000);
  await ctx.mq!.send({
    topic: topics.orderTimeout.name,
    envelope: newEnvelope('order.payment_deadline', { orderIds: [String(o.id)] }),
    key: String(o.id),
    deliverAt: o.payDeadline,
  });
}

if (process.argv[1]?.endsWith('orders.ts')) {
  await main();
  process.exit(0);
}
