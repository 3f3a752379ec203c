// Flash-sale benchmark: purchases/s with the batcher on (100 or 1 s) and with one message per ticket,
// beside a bare Fastify route, the admission floor (that route plus the admission script) and the raw
// Lua admission script measured in the same run; then
// tickets -> orders per second beside a raw multi-row INSERT of the same shape. Needs MariaDB, Redis and
// RocketMQ (npm run dev, or bash deploy/local/infra.sh up). Uses its own database and Redis prefix.
import { randomUUID } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { signDevToken } from '../internal/auth/index.js';
import { createFlashSale, saleKeys } from '../internal/flashsale/index.js';
// The admission script itself, for the raw-Lua ceiling (not part of the module's public surface).
import { PURCHASE } from '../internal/flashsale/scripts.js';
import { flashSaleTickets, skus } from '../internal/model/index.js';
import { newEnvelope, topics } from '../internal/mq/index.js';
import { ORDER_CREATED_BATCH } from '../internal/order/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { seedScaleRun } from './flash-sale-seed.js';
import {
  benchEnv,
  cpuMeter,
  httpOk,
  infraPids,
  load,
  machine,
  openBenchContext,
  pct,
  saveResult,
  sleep,
  startProcess,
} from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const HTTP_PORT = 28888;
const BARE_PORT = 28999;
const env: NodeJS.ProcessEnv = benchEnv;
const address = {
  name: 'Li Lei',
  phone: '13800000000',
  province: 'Zhejiang',
  city: 'Hangzhou',
  district: 'Xihu',
  detail: '1 Longjing Rd',
};
const body = JSON.stringify({ address });

async function main() {
  // A fresh database: the drain's cost grows with what earlier runs left in the tables (see ensureDatabase).
  const { config, ctx } = await openBenchContext(env, { freshDatabase: true });
  // BENCH_ONLY=seed runs only the seed-scale sale (section 5).
  if (process.env.BENCH_ONLY === 'seed') {
    const seed = await seedScaleRun(ctx, env, {
      httpPort: HTTP_PORT,
      connections: CONNECTIONS,
      body,
      newSale: (stock, limit) => newSale(ctx, stock, limit),
    });
    const file = saveResult('flash-sale-seed', { machine: machine(), seedScale: seed });
    process.stdout.write(`${JSON.stringify(seed, null, 2)}\nsaved ${file}\n`);
    await ctx.close();
    return;
  }
  const tokens = await Promise.all(
    Array.from({ length: 2000 }, (_, i) =>
      signDevToken(config.auth, { userId: String(1_000_000 + i), roles: ['user'] }, 3600),
    ),
  );
  let next = 0;
  const purchaseReq = () => ({
    headers: {
      authorization: `Bearer ${tokens[next++ % tokens.length]}`,
      'idempotency-key': randomUUID(),
      'content-type': 'application/json',
    },
    body,
  });

  // 1. Ceiling: a bare Fastify route answering the same 202 body, with the same load-generator work per
  // request (a token, a fresh Idempotency-Key, the body) as the real runs. The machine drifts during a
  // run: measured just before and just after the purchase runs, and averaged.
  const routeOnce = async (file: string, route: string, args: string[], pids: Record<string, number> = {}) => {
    const server = await startProcess(file, env, httpOk(`http://127.0.0.1:${BARE_PORT}${route}`), [
      String(BARE_PORT),
      ...args,
    ]);
    // CPU µs per request of the route's process and of this one (the load generator), and of `pids`.
    const meter = cpuMeter({ server: server.child.pid!, loadGenerator: process.pid, ...pids });
    const r = await load({
      url: `http://127.0.0.1:${BARE_PORT}${route}`,
      method: 'POST',
      connections: CONNECTIONS,
      seconds: SECONDS,
      setup: purchaseReq,
    });
    const cpuMicrosPerRequest = meter(r.status2xx);
    await server.stop();
    return { ...r, cpuMicrosPerRequest };
  };
  const bareOnce = () => routeOnce('bench/bare-fastify.ts', '/bare', ['48']);
  const bareBefore = await bareOnce();

  // 1b. Floor: the bare route plus the admission script through ioredis and nothing else (no token check,
  // rate limit, validation, metrics, tracing or broker), the least any correct purchase costs. Measured
  // next to the bare route, before and after the purchase runs. Its tickets never reach the broker and
  // are removed like the raw Lua run's (2).
  const floorOnce = async () => {
    const saleId = await newSale(ctx, 1_000_000);
    const r = await routeOnce('bench/admission-floor.ts', '/floor', [saleId], infraPids());
    const k = saleKeys(saleId);
    await ctx.redis.del(k.queued, k.tickets, k.users);
    return r;
  };
  const floorBefore = await floorOnce();

  // 2. Ceiling: the raw admission script through ioredis at the same concurrency. Its admissions never
  // reach the broker, so they are removed afterwards: left queued in Redis, the job's flashsale-requeue
  // would re-send them (5,000 every 5 s) into every later benchmark's consumer.
  const luaSale = await newSale(ctx, 1_000_000);
  // Redis's own CPU per admission: one sale is one slot, so 1e6 / this is its ceiling per Redis core.
  const redisPid = infraPids().redis;
  const luaMeter = cpuMeter(redisPid ? { redis: redisPid } : {});
  const luaRun = {
    ...(await rawLuaRate(ctx, luaSale, CONNECTIONS, SECONDS)),
    redisCpuMicrosPerAdmission: 0,
  };
  luaRun.redisCpuMicrosPerAdmission = luaMeter(luaRun.ops).redis ?? 0;
  const lk = saleKeys(luaSale);
  await ctx.redis.del(lk.queued, lk.tickets, lk.users);

  const purchases: Record<
    string,
    Awaited<ReturnType<typeof load>> & { saleId: string; cpuMicrosPerPurchase: Record<string, number> }
  > = {};
  const purchaseRun = async (name: string, batchSize: string) => {
    const saleId = await newSale(ctx, 1_000_000);
    const restful = await startProcess(
      'restful/main.ts',
      { ...env, QIANFAN_FLASH_SALE__BATCH_SIZE: batchSize },
      httpOk(`http://127.0.0.1:${HTTP_PORT}/healthz`),
    );
    await load({
      url: `http://127.0.0.1:${HTTP_PORT}/v1/flash-sales/${saleId}/purchases`,
      method: 'POST',
      connections: 8,
      seconds: 2,
      setup: purchaseReq,
    });
    // CPU µs per admitted purchase of restful, this process (the load generator), Redis and the broker.
    const meter = cpuMeter({ server: restful.child.pid!, loadGenerator: process.pid, ...infraPids() });
    const run = await load({
      url: `http://127.0.0.1:${HTTP_PORT}/v1/flash-sales/${saleId}/purchases`,
      method: 'POST',
      connections: CONNECTIONS,
      seconds: SECONDS,
      setup: purchaseReq,
    });
    const cpuMicrosPerPurchase = meter(run.status2xx);
    await restful.stop(); // flushes the batcher
    purchases[name] = { ...run, saleId, cpuMicrosPerPurchase };
  };
  const drain = async (backlog: Array<{ saleId: string; tickets: number }>) => {
    const tickets = backlog.reduce((n, b) => n + b.tickets, 0);
    const consumer = await startProcess('consumer/main.ts', env, httpOk(`http://127.0.0.1:29102/readyz`));
    // CPU µs per order of the consumer, MariaDB, Redis and the broker.
    const meter = cpuMeter({ consumer: consumer.child.pid!, ...infraPids() });
    const started = Date.now();
    let ordered = 0;
    for (;;) {
      ordered = 0;
      for (const b of backlog) ordered += await countTickets(ctx, b.saleId);
      if (ordered >= tickets || Date.now() - started > 900_000) break;
      await sleep(1000); // COUNT(*) over tens of thousands of rows is not free: polled once a second
    }
    // The drain ended at the last ticket row's time (the consumer's clock, taken as it builds the batch).
    const [last] = await ctx.db
      .select({ at: sql<Date>`MAX(${flashSaleTickets.createdAt})` })
      .from(flashSaleTickets)
      .where(
        inArray(
          flashSaleTickets.saleId,
          backlog.map((b) => BigInt(b.saleId)),
        ),
      );
    const seconds = (new Date(last!.at).getTime() - started) / 1000;
    const cpuMicrosPerOrder = meter(ordered);
    await consumer.stop();
    return { tickets, ordered, seconds, perSecond: Math.round(ordered / seconds), cpuMicrosPerOrder };
  };

  // 3. One message per ticket, and zero oversell under load (3x more buyers than units); their tickets
  // become orders before the batched run, so the measured drain (4) holds batched tickets only.
  await purchaseRun('one message per ticket', '1');
  const smallSale = await newSale(ctx, 1000);
  const restful = await startProcess('restful/main.ts', env, httpOk(`http://127.0.0.1:${HTTP_PORT}/healthz`));
  let buyer = 0;
  const oversell = await load({
    url: `http://127.0.0.1:${HTTP_PORT}/v1/flash-sales/${smallSale}/purchases`,
    method: 'POST',
    connections: CONNECTIONS,
    seconds: 3,
    setup: () => ({
      ...purchaseReq(),
      headers: { ...purchaseReq().headers, authorization: `Bearer ${tokens[buyer++ % tokens.length]}` },
    }),
  });
  await restful.stop();
  const admitted = await ctx.redis.hlen(saleKeys(smallSale).tickets);
  const unbatched = await drain([
    { saleId: purchases['one message per ticket']!.saleId, tickets: purchases['one message per ticket']!.status2xx },
    { saleId: smallSale, tickets: admitted },
  ]);

  // 4. Batched purchases; then the consumer, started afterwards, turns their backlog into orders.
  await purchaseRun('batched (100 or 1 s)', '100');
  const floorAfter = await floorOnce();
  const bareAfter = await bareOnce();
  const floorRun = meanRun(floorBefore, floorAfter);
  const bareRun = meanRun(bareBefore, bareAfter);
  const batched = purchases['batched (100 or 1 s)']!;
  // The INSERT ceiling of the drain's shape, right before and right after it, averaged: this host's speed
  // drifts by a third within minutes (the bare route: 20,311/s before the purchase runs, 13,171/s after,
  // in flash-sale-2026-12-05T1508.json), so a ceiling measured minutes away from the drain compares
  // it with another machine. Each writes as many orders as the batched run queued (3,000 to 60,000): a
  // few thousand rows into empty tables fit in the buffer pool and flatter the ceiling.
  const ceilingOrders = Math.min(60_000, Math.max(3000, Math.round(batched.status2xx / 100) * 100));
  const concurrency = ctx.config.rocketmq.consumerConcurrency;
  const insertBefore = await rawInsertRate(ctx, 100, concurrency, ceilingOrders);
  const ticketsToOrders = await drain([{ saleId: batched.saleId, tickets: batched.status2xx }]);
  const insertAfter = await rawInsertRate(ctx, 100, concurrency, ceilingOrders);
  const insertCeiling = {
    ...insertBefore,
    ordersPerSecond: Math.round((insertBefore.ordersPerSecond + insertAfter.ordersPerSecond) / 2),
    before: insertBefore,
    after: insertAfter,
  };

  // 5. The seed's scale: a 20,000-unit sale with restful and the consumer running together.
  const seed = await seedScaleRun(ctx, env, {
    httpPort: HTTP_PORT,
    connections: CONNECTIONS,
    body,
    newSale: (stock, limit) => newSale(ctx, stock, limit),
  });

  // 6. Ceilings of the broker side of a batch, alone (after the sale: the broker indexes every key of the
  // batch ceiling's messages for a while afterwards).
  const txCeiling = await rawTxMessageRate(ctx, 100, ctx.config.rocketmq.consumerConcurrency, 5);
  const batchCeiling = await rawBatchMessageRate(ctx, 100, ctx.config.rocketmq.consumerConcurrency, 5);

  const small = await countTickets(ctx, smallSale);
  const result = {
    machine: machine(),
    load: { connections: CONNECTIONS, seconds: SECONDS },
    bareFastify: bareRun,
    admissionFloor: floorRun,
    rawLua: luaRun,
    purchases,
    oversell: {
      stock: 1000,
      attempts: oversell.requests,
      admittedInRedis: admitted,
      accepted: oversell.status2xx,
      orderedSoFar: small,
    },
    ticketsToOrders: { shape: ctx.config.flashSale.orderCreatedEvents, ...ticketsToOrders },
    unbatchedDrain: unbatched,
    rawInsertCeiling: insertCeiling,
    rawTransactionMessages: txCeiling,
    rawBatchMessages: batchCeiling,
    seedScale: seed,
  };
  const b = purchases['batched (100 or 1 s)']!;
  const budget = purchaseBudget(bareRun.cpuMicrosPerRequest, b.cpuMicrosPerPurchase);
  const file = saveResult('flash-sale', { ...result, purchaseBudget: budget });
  const one = purchases['one message per ticket']!;
  process.stdout.write(
    [
      `| measurement | per second | p50 ms | p99 ms | vs ceiling |`,
      `| --- | --- | --- | --- | --- |`,
      `| bare Fastify POST (ceiling; mean of ${bareBefore.rps} before and ${bareAfter.rps} after) | ${bareRun.rps} | ${bareRun.p50} | ${bareRun.p99} | — |`,
      `| admission floor: bare route + admission script only (mean of ${floorBefore.rps} and ${floorAfter.rps}; CPU µs ${JSON.stringify(floorRun.cpuMicrosPerRequest)}) | ${floorRun.rps} | ${floorRun.p50} | ${floorRun.p99} | ${pct(floorRun.rps, bareRun.rps)} of bare Fastify; purchases are ${pct(b.rps, floorRun.rps)} of it |`,
      `| raw Lua admission, ioredis (ceiling; Redis CPU ${luaRun.redisCpuMicrosPerAdmission} µs each) | ${luaRun.opsPerSecond} | — | — | — |`,
      `| purchases, batcher on | ${b.rps} | ${b.p50} | ${b.p99} | ${pct(b.rps, bareRun.rps)} of bare Fastify, ${pct(b.rps, luaRun.opsPerSecond)} of raw Lua |`,
      `| CPU µs per request: bare ${JSON.stringify(bareRun.cpuMicrosPerRequest)}, batched purchase ${JSON.stringify(b.cpuMicrosPerPurchase)} | — | — | — | with restful as cheap as the bare route, purchases would reach at most ${budget.boundPercent} % of bare on this host's ${budget.cores} cores |`,
      `| purchases, one message per ticket | ${one.rps} | ${one.p50} | ${one.p99} | ${pct(one.rps, bareRun.rps)} of bare Fastify |`,
      `| tickets -> orders (consumer; CPU µs per order ${JSON.stringify(ticketsToOrders.cpuMicrosPerOrder)}) | ${result.ticketsToOrders.perSecond} | — | — | ${pct(result.ticketsToOrders.perSecond, insertCeiling.ordersPerSecond)} of raw multi-row INSERT |`,
      `| raw multi-row INSERT, same shape (ceiling; mean of ${insertBefore.ordersPerSecond} before and ${insertAfter.ordersPerSecond} after the drain) | ${insertCeiling.ordersPerSecond} | — | — | — |`,
      `| transaction messages alone, one per order, 100 per batch, no DB (ceiling of the one-per-order shape) | ${txCeiling.messagesPerSecond} | — | — | tickets -> orders is ${pct(result.ticketsToOrders.perSecond, txCeiling.messagesPerSecond)} of it |`,
      `| order.created.batch messages alone, 100 events each, no DB (ceiling of the batched shape, in orders) | ${batchCeiling.ordersPerSecond} | — | — | tickets -> orders is ${pct(result.ticketsToOrders.perSecond, batchCeiling.ordersPerSecond)} of it |`,
      `| seed scale: ${seed.units} units, ${seed.attempts} attempts, ${seed.buyers} buyers | sold out in ${seed.soldOutSeconds} s | admission -> ORDERED ${seed.admissionToOrderedMs.p50} | ${seed.admissionToOrderedMs.p99} | last order ${seed.lastOrderAfterSellOutSeconds} s after sell-out (seen ${seed.lastOrderSeenAfterSellOutSeconds} s); ${seed.ordered} ordered, ${seed.oversold} oversold, requeue re-sent ${seed.requeueJob.resent}, reconcile ${seed.reconcile} |`,
      `| oversell check: 1,000 units, ${oversell.requests} attempts | ${oversell.status2xx} accepted | | | ${admitted} tickets in Redis |`,
      '',
      `saved ${file}`,
      '',
    ].join('\n'),
  );
  await ctx.close();
}

/** A route measured before and after the purchase runs: the mean of both, and both. */
function meanRun<R extends { rps: number; p50: number; p99: number; cpuMicrosPerRequest: Record<string, number> }>(
  before: R,
  after: R,
) {
  return {
    ...before,
    cpuMicrosPerRequest: meanOf(before.cpuMicrosPerRequest, after.cpuMicrosPerRequest),
    rps: Math.round((before.rps + after.rps) / 2),
    p50: (before.p50 + after.p50) / 2,
    p99: (before.p99 + after.p99) / 2,
    before,
    after,
  };
}

/** Per-key mean of two CPU readings. */
function meanOf(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(a).map((k) => [k, Math.round(((a[k] ?? 0) + (b[k] ?? 0)) / 2)]));
}

/**
 * What the purchase target can reach on this host at best: the bare route and its load generator use
 * `bare` µs of CPU per request; a purchase also costs Redis and the broker CPU on the same cores. If
 * restful cost no more than the bare route, the rate ratio would be the ratio of CPU per request (the
 * run is CPU-bound: every core busy), i.e. bare total / (purchase total - restful + bare server).
 */
function purchaseBudget(bare: Record<string, number>, purchase: Record<string, number>) {
  const total = (r: Record<string, number>) => Object.values(r).reduce((n, v) => n + v, 0);
  const best = total(purchase) - (purchase.server ?? 0) + (bare.server ?? 0);
  return {
    cores: machine().cpus,
    bareMicros: total(bare),
    purchaseMicros: total(purchase),
    purchaseMicrosWithBareServer: best,
    boundPercent: best > 0 ? Math.round((100 * total(bare)) / best) : 0,
  };
}

/** A sale of `stock` units on a fresh SKU, created through the use case (as the admin route does). */
async function newSale(ctx: ServiceContext, stock: number, perUserLimit = 100): Promise<string> {
  const skuId = ctx.ids.next();
  await ctx.db.insert(skus).values({ id: skuId, title: 'bench sku', price: 9900, currency: 'CNY', available: stock });
  const sale = await createFlashSale(ctx, {
    skuId,
    price: 100,
    stock,
    perUserLimit,
    startsAt: new Date(Date.now() - 1000),
    endsAt: new Date(Date.now() + 3600_000),
  });
  return String(sale.id);
}

async function countTickets(ctx: ServiceContext, saleId: string) {
  const [row] = await ctx.db
    .select({ n: sql<string>`COUNT(*)` })
    .from(flashSaleTickets)
    .where(eq(flashSaleTickets.saleId, BigInt(saleId)));
  return Number(row?.n ?? 0);
}

/** The consumer's write of one batch, as plain multi-row INSERTs through mysql2 (same pool size). */
async function rawInsertRate(ctx: ServiceContext, batch: number, concurrency: number, total: number) {
  const conn = ctx.pool;
  await conn.query('CREATE TABLE IF NOT EXISTS bench_orders LIKE orders');
  await conn.query('CREATE TABLE IF NOT EXISTS bench_order_items LIKE order_items');
  await conn.query('CREATE TABLE IF NOT EXISTS bench_status_log LIKE order_status_log');
  await conn.query('CREATE TABLE IF NOT EXISTS bench_tickets LIKE flash_sale_tickets');
  await conn.query('CREATE TABLE IF NOT EXISTS bench_tx_log LIKE mq_tx_log');
  const addr = JSON.stringify(address);
  const started = Date.now();
  let done = 0;
  const worker = async () => {
    while (done < total) {
      done += batch;
      const ids = Array.from({ length: batch }, () => ctx.ids.next());
      const c = await conn.getConnection();
      try {
        await c.query('START TRANSACTION');
        await c.query('UPDATE skus SET reserved = reserved WHERE id = 0');
        await c.query(
          'INSERT INTO bench_orders (id, order_no, user_id, status, currency, items_amount, total_amount, address, source, pay_deadline) VALUES ?',
          [ids.map((id) => [id, `QF${id}`, 1, 'PENDING_PAYMENT', 'CNY', 100, 100, addr, 'FLASHSALE', new Date()])],
        );
        await c.query(
          'INSERT INTO bench_order_items (id, order_id, sku_id, title, unit_price, quantity, line_total) VALUES ?',
          [ids.map((id) => [ctx.ids.next(), id, 1, 'bench sku', 100, 1, 100])],
        );
        await c.query(
          'INSERT INTO bench_status_log (id, order_id, from_status, to_status, version, actor_type) VALUES ?',
          [ids.map((id) => [ctx.ids.next(), id, '', 'PENDING_PAYMENT', 0, 'SYSTEM'])],
        );
        await c.query('INSERT INTO bench_tickets (id, sale_id, user_id, quantity, status, order_id) VALUES ?', [
          ids.map((id) => [ctx.ids.next(), 1, 1, 1, 'ORDERED', id]),
        ]);
        await c.query('INSERT INTO bench_tx_log (id, event_id, topic, event_type, message_key, payload) VALUES ?', [
          ids.map((id) => [ctx.ids.next(), randomUUID(), 'order_event', 'order.created', String(id), '{}']),
        ]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  for (const t of ['bench_orders', 'bench_order_items', 'bench_status_log', 'bench_tickets', 'bench_tx_log'])
    await conn.query(`DROP TABLE ${t}`);
  return { orders: done, seconds, ordersPerSecond: Math.round(done / seconds), batch, concurrency };
}

/** The admission script alone: `concurrency` callers in a loop for `seconds`, through ioredis. */
async function rawLuaRate(ctx: ServiceContext, saleId: string, concurrency: number, seconds: number) {
  const k = saleKeys(saleId);
  const until = Date.now() + seconds * 1000;
  let ops = 0;
  let n = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const user = String(2_000_000 + (n++ % 2000));
      const seq = ctx.ids.next().toString();
      await PURCHASE.run(
        ctx.redis,
        [k.meta, k.stock, k.users, k.tickets, k.queued, k.idem(user, seq)],
        [Date.now(), user, 1, seq, body, 'h', 60],
      );
      ops++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    ops,
    seconds: (Date.now() - started) / 1000,
    opsPerSecond: Math.round((ops * 1000) / (Date.now() - started)),
  };
}

/** The broker side of a batch alone: 100 transaction messages (half + commit) per batch, no DB work. */
async function rawTxMessageRate(ctx: ServiceContext, batch: number, concurrency: number, seconds: number) {
  const until = Date.now() + seconds * 1000;
  let sent = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const msgs = Array.from({ length: batch }, () => ({
        topic: 'order_event',
        envelope: newEnvelope('bench.tx', {}),
        key: String(ctx.ids.next()),
      }));
      await ctx.mq!.sendInTransaction(msgs, async (ltx) => {
        ltx.beforeCommit();
        return {};
      });
      sent += batch;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { messages: sent, messagesPerSecond: Math.round((sent * 1000) / (Date.now() - started)), batch, concurrency };
}

/**
 * The broker side of the batched shape alone: one order.created.batch transaction message (half +
 * commit) per batch, carrying `batch` events of a real order event's size, no DB work.
 */
async function rawBatchMessageRate(ctx: ServiceContext, batch: number, concurrency: number, seconds: number) {
  const until = Date.now() + seconds * 1000;
  let batches = 0;
  const event = () =>
    newEnvelope('order.created', {
      orderId: String(ctx.ids.next()),
      orderNo: `QF${ctx.ids.next()}`,
      userId: '1000001',
      status: 'PENDING_PAYMENT',
      previousStatus: null,
      version: 0,
      totalAmount: 100,
      currency: 'CNY',
      reason: 'created',
      source: 'FLASHSALE',
    });
  const worker = async () => {
    while (Date.now() < until) {
      const events = Array.from({ length: batch }, event);
      await ctx.mq!.sendInTransaction(
        {
          topic: topics.orderEvent.name,
          envelope: newEnvelope(`bench.${ORDER_CREATED_BATCH}`, { events }),
          keys: events.map((e) => e.data.orderId),
        },
        async (ltx) => {
          ltx.beforeCommit();
          return {};
        },
      );
      batches++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const s = (Date.now() - started) / 1000;
  return {
    batches,
    batchesPerSecond: Math.round(batches / s),
    ordersPerSecond: Math.round((batches * batch) / s),
    batch,
    concurrency,
  };
}

await main();
process.exit(0);
