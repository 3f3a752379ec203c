// The seed's scale: a 20,000-unit sale, 100,000 purchase attempts from 25,000 buyers (limit 1 each),
// restful and the consumer running together, as on a sale day. Reports when the sale sold out (the
// 20,000th admission), how long after that the last ticket became an order, and admission -> ORDERED per
// ticket; then checks the outcome (no oversell, no ticket lost, no buyer over the limit, Redis = MySQL)
// and that the flashsale-requeue job (run here every 2 s, as the job process does) re-sent nothing.
// BENCH_SEED_KILL=consumer or restful kills that process -9 near the end of the sale (see below).
// BENCH_SEED_CONSUMER_AFTER=<s>: the consumer is down for the whole sale and starts that many seconds
// after the last purchase, so the broker holds the sale's every ticket while the requeue job runs over them.
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { signDevToken } from '../internal/auth/index.js';
import { flashSaleStats, reconcileFlashSale, requeueLostTickets } from '../internal/flashsale/index.js';
import { idTime } from '../internal/ids/index.js';
import { flashSaleTickets, orders } from '../internal/model/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { httpOk, load, percentiles, sleep, startProcess } from './lib.js';

const UNITS = Number(process.env.BENCH_SEED_UNITS ?? 20_000);
const ATTEMPTS = Number(process.env.BENCH_SEED_ATTEMPTS ?? 100_000);
const BUYERS = Number(process.env.BENCH_SEED_BUYERS ?? 25_000);
const CONSUMER_AFTER_SECONDS = Number(process.env.BENCH_SEED_CONSUMER_AFTER ?? 0);

export async function seedScaleRun(
  ctx: ServiceContext,
  env: NodeJS.ProcessEnv,
  opts: {
    httpPort: number;
    connections: number;
    body: string;
    newSale: (stock: number, limit: number) => Promise<string>;
  },
) {
  const saleId = await opts.newSale(UNITS, 1);
  const firstUser = 5_000_000 + Math.floor(Math.random() * 1000) * 100_000;
  const tokens = await Promise.all(
    Array.from({ length: BUYERS }, (_, i) =>
      signDevToken(ctx.config.auth, { userId: String(firstUser + i), roles: ['user'] }, 3600),
    ),
  );
  const startConsumer = () => startProcess('consumer/main.ts', env, httpOk('http://127.0.0.1:29102/readyz'));
  const startRestful = () => startProcess('restful/main.ts', env, httpOk(`http://127.0.0.1:${opts.httpPort}/healthz`));
  let consumer = CONSUMER_AFTER_SECONDS > 0 ? undefined : await startConsumer();
  let restful = await startRestful();

  const count = async () => {
    const [r] = await ctx.db
      .select({ n: sql<string>`COUNT(*)` })
      .from(flashSaleTickets)
      .where(eq(flashSaleTickets.saleId, BigInt(saleId)));
    return Number(r?.n ?? 0);
  };
  // The requeue job's pass over this sale every 2 s (what it re-sends of this sale), and the moment the last ticket is seen ORDERED (polled every 250 ms).
  let stop = false;
  const requeued = { resent: 0, settled: 0, failed: 0, passes: 0, maxInBroker: 0 };
  const passMs: number[] = [];
  const requeue = (async () => {
    while (!stop) {
      await sleep(2000);
      const t0 = performance.now();
      const r = await requeueLostTickets(ctx, { saleId: BigInt(saleId) });
      passMs.push(performance.now() - t0);
      requeued.resent += r.resent;
      requeued.settled += r.settled;
      requeued.failed += r.failed;
      requeued.maxInBroker = Math.max(requeued.maxInBroker, r.inBroker);
      requeued.passes++;
    }
  })();
  let lastSeenAt = 0;
  const started = Date.now();
  const watch = (async () => {
    while (!stop && Date.now() - started < 600_000) {
      if ((await count()) >= UNITS) {
        lastSeenAt = Date.now();
        return;
      }
      await sleep(250);
    }
  })();

  // BENCH_SEED_KILL=consumer|restful: that process dies with kill -9 once 90 % of the units are ordered,
  // and a new one is started at once, as a supervisor would.
  const victim = process.env.BENCH_SEED_KILL;
  let killed: { process: string; at: number; orderedBefore: number } | undefined;
  const killer = (async () => {
    if (victim !== 'consumer' && victim !== 'restful') return;
    while (!stop) {
      const ordered = await count();
      if (ordered >= UNITS * 0.9) {
        await (victim === 'consumer' ? consumer! : restful).kill();
        killed = { process: victim, at: Date.now(), orderedBefore: ordered };
        if (victim === 'consumer') consumer = await startConsumer();
        else restful = await startRestful();
        return;
      }
      await sleep(100);
    }
  })();

  let n = 0;
  const run = await load({
    url: `http://127.0.0.1:${opts.httpPort}/v1/flash-sales/${saleId}/purchases`,
    method: 'POST',
    connections: opts.connections,
    amount: ATTEMPTS,
    setup: () => ({
      headers: {
        authorization: `Bearer ${tokens[n++ % BUYERS]}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      body: opts.body,
    }),
  });
  let consumerStartedAt: number | undefined;
  if (!consumer) {
    await sleep(CONSUMER_AFTER_SECONDS * 1000);
    consumerStartedAt = Date.now();
    consumer = await startConsumer();
  }
  await watch;
  stop = true;
  await killer;
  await requeue;
  await restful.stop();
  await consumer.stop();

  // From the DB: admission time is the ticket id's time (restful takes it just before the Lua script);
  // ORDERED time is the ticket row's created_at (the consumer's clock, taken as it builds the batch, before
  // the batch's transaction commits: a few ms early).
  const rows = await ctx.db
    .select({ id: flashSaleTickets.id, status: flashSaleTickets.status, at: flashSaleTickets.createdAt })
    .from(flashSaleTickets)
    .where(eq(flashSaleTickets.saleId, BigInt(saleId)));
  const admitted = rows.map((r) => idTime(r.id).getTime());
  const firstAdmission = Math.min(...admitted);
  const soldOutAt = Math.max(...admitted);
  const lastOrderRow = Math.max(...rows.map((r) => r.at.getTime()));
  const waits = rows.map((r) => r.at.getTime() - idTime(r.id).getTime());
  const [perBuyer] = await ctx.db
    .select({ buyers: sql<string>`COUNT(DISTINCT ${orders.userId})`, orders: sql<string>`COUNT(*)` })
    .from(orders)
    .where(sql`${orders.id} IN (SELECT order_id FROM flash_sale_tickets WHERE sale_id = ${BigInt(saleId)})`);
  const stats = await flashSaleStats(ctx, BigInt(saleId));
  const reconcile = await reconcileFlashSale(ctx, BigInt(saleId));
  return {
    /** flashSale.orderCreatedEvents of the consumer (the bench's environment may override it). */
    eventShape:
      process.env.QIANFAN_FLASH_SALE__ORDER_CREATED_EVENTS ?? env.QIANFAN_FLASH_SALE__ORDER_CREATED_EVENTS ?? 'batch',
    units: UNITS,
    attempts: run.requests,
    buyers: BUYERS,
    connections: opts.connections,
    purchases: {
      rps: run.rps,
      p50: run.p50,
      p99: run.p99,
      accepted: run.status2xx,
      refused: run.non2xx,
      errors: run.errors,
    },
    soldOutSeconds: (soldOutAt - firstAdmission) / 1000,
    lastOrderAfterSellOutSeconds: (lastOrderRow - soldOutAt) / 1000,
    lastOrderSeenAfterSellOutSeconds: lastSeenAt ? (lastSeenAt - soldOutAt) / 1000 : null,
    admissionToOrderedMs: percentiles(waits),
    maxAdmissionToOrderedMs: Math.max(...waits),
    tickets: rows.length,
    ordered: rows.filter((r) => r.status === 'ORDERED').length,
    orders: Number(perBuyer?.orders ?? 0),
    distinctBuyers: Number(perBuyer?.buyers ?? 0),
    oversold: Math.max(0, rows.length - UNITS),
    redis: stats.redis,
    db: { stock: stats.db.stock, sold: stats.db.sold },
    reconcile: reconcile.action,
    requeueJob: { ...requeued, passMs: percentiles(passMs), maxPassMs: Math.round(Math.max(0, ...passMs)) },
    consumerStarted: consumerStartedAt && {
      afterSellOutSeconds: (consumerStartedAt - soldOutAt) / 1000,
      lastOrderAfterItSeconds: (lastOrderRow - consumerStartedAt) / 1000,
    },
    killed: killed && {
      process: killed.process,
      orderedBefore: killed.orderedBefore,
      beforeSellOutSeconds: (soldOutAt - killed.at) / 1000,
    },
  };
}
