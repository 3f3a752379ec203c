import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { signDevToken } from '../internal/auth/index.js';
import { createFlashSale, flashSaleStats, reconcileFlashSale } from '../internal/flashsale/index.js';
import { flashSaleTickets, mqTxLog, orders } from '../internal/model/index.js';
import { ConsumerLoop, TxResolution, testGroups, topics } from '../internal/mq/index.js';
import { replayOrderEvents } from '../internal/ops/index.js';
import { ORDER_CREATED_BATCH } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { parseOrderEvents } from '../pkg/index.js';
import { checkBackProducer } from './helpers/check-back.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

// A flash sale at CI's scale with the batched event shape (one order.created.batch per batch), through
// real processes: two restful (one buffering its tickets for a minute, killed -9 with them buffered),
// a consumer killed -9 while batches are being written, and the job's flashsale-requeue.
const UNITS = 2000;
const ATTEMPTS = 10_000;
const BUYERS = 6000;
const PORT_A = 18_651;
const PORT_B = 18_652;
const env = {
  QIANFAN_REDIS__KEY_PREFIX: 'qf:order:test:flashbatch:',
  // The chaos suite's RocketMQ namespace (deploy/rocketmq/rocketmq.sh creates it): messages this test's
  // killed processes leave unacknowledged go back to this namespace's groups, never to those of
  // test/flash-sale.test.ts, which runs next.
  QIANFAN_ROCKETMQ__NAMESPACE: 'qfchaos',
  QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
  QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
  QIANFAN_FLASH_SALE__REQUEUE_AFTER_SECONDS: '2',
  QIANFAN_FLASH_SALE__ORDER_CREATED_EVENTS: 'batch',
  QIANFAN_JOBS__FLASHSALE_REQUEUE: '*/2 * * * * *',
  QIANFAN_ADMIN__RESTFUL_PORT: '19160',
  QIANFAN_ADMIN__CONSUMER_PORT: '19162',
  QIANFAN_ADMIN__JOB_PORT: '19163',
};

interface Seen {
  eventId: string;
  messageId: string;
  type: string;
  version: number;
  userId: bigint;
}

describe('flash sale, batched order.created events: 2,000 units, 10,000 attempts, kill -9 of restful and consumer', () => {
  let ctx: ServiceContext;
  let audit: ConsumerLoop | undefined;
  const procs: Proc[] = [];
  // Every order event of this run, by order id, as the broker delivered them (parsed as pkg/events does).
  const seen = new Map<string, Seen[]>();
  const firstUser = BigInt(Date.now()) * 1000n + 500_000n;

  const readyz = (port: string) => async () =>
    (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok;
  const start = async (entry: string, extra: NodeJS.ProcessEnv, port: string) => {
    const p = startProcess(entry, [], { ...env, ...extra });
    procs.push(p);
    await waitFor(`${entry} to be ready`, 60_000, readyz(port)).catch((err: Error) => {
      throw new Error(`${err.message}\n${p.output().slice(-3000)}`);
    });
    return p;
  };

  before(async () => {
    const config = testConfig(env);
    ctx = await createServiceContext(config, { process: 'script', mq: false, logger: testLogger });
    audit = new ConsumerLoop({
      ...config.rocketmq,
      group: testGroups.flashAudit.name,
      topic: testGroups.flashAudit.topic,
      awaitMs: 4000,
      invisibleMs: 10_000,
      logger: testLogger,
      metrics: ctx.metrics,
      handler: async (_envelope, meta) => {
        // Other tests' messages on this topic (not order events at all) are skipped: throwing would only
        // have the broker redeliver them, again and again.
        let parsed: ReturnType<typeof parseOrderEvents>;
        try {
          parsed = parseOrderEvents(meta.body);
        } catch {
          return;
        }
        for (const e of parsed) {
          const userId = BigInt(e.data.userId);
          if (userId < firstUser || userId > firstUser + BigInt(BUYERS + 100)) continue; // not this run's
          const list = seen.get(e.data.orderId) ?? [];
          list.push({ eventId: e.eventId, messageId: meta.messageId, type: e.type, version: e.data.version, userId });
          seen.set(e.data.orderId, list);
        }
      },
    });
    await audit.start();
  });

  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await stopWithin(p, 10_000);
    await audit?.stop().catch(() => undefined);
    await ctx?.close();
  });

  it("kill -9 after a batch's DB commit, before its half message is committed: the check-back commits the batch from its tx-log row", async () => {
    const [sku] = await makeSkus(ctx, [{ price: 9900, available: 10 }]);
    const sale = await createFlashSale(ctx, {
      skuId: sku!,
      price: 100,
      stock: 10,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000),
      endsAt: new Date(Date.now() + 3600_000),
    });
    const users = firstUser + BigInt(BUYERS) + 10n; // this run's buyers, beyond the big sale's
    const child = startProcess('test/fixtures/flash-batch-then-die.ts', [String(sale.id), String(users), '3'], env);
    procs.push(child);
    const eventId = await waitFor('the batch to stop after its DB commit', 30_000, () => {
      if (child.child.exitCode !== null) throw new Error(`child exited: ${child.output()}`);
      return /READY (\S+)/.exec(child.output())?.[1];
    });
    child.child.kill('SIGKILL');
    await child.exited;
    const tickets = await ctx.db.select().from(flashSaleTickets).where(eq(flashSaleTickets.saleId, sale.id));
    assert.equal(tickets.length, 3);
    const [row] = await ctx.db.select().from(mqTxLog).where(eq(mqTxLog.eventId, eventId));
    assert.equal(row?.eventType, ORDER_CREATED_BATCH);

    // The only live producer of order_event now answers the broker's check-back from the tx-log.
    const { producer: recovering, asked } = checkBackProducer(
      ctx.config,
      ctx.db,
      topics.orderEvent.name,
      ctx.config.rocketmq.txRollbackAfterMs,
    );
    await recovering.start();
    try {
      await waitFor('the check-back to commit the batch', 60_000, () => asked.get(eventId) === TxResolution.COMMIT);
      // ...and the batch's three events reach a consumer, each once.
      await waitFor('the batch to be delivered', 150_000, () =>
        tickets.every((t) => seen.get(String(t.orderId))?.length === 1),
      );
    } finally {
      await recovering.close();
    }
    const messageIds = new Set(tickets.map((t) => seen.get(String(t.orderId))![0]!.messageId));
    assert.equal(messageIds.size, 1, 'the three orders came in one message');

    // Replay re-sends a batched order's own event (same id, plain order.created), never the batch's row.
    const one = tickets[0]!;
    const byOrder = await replayOrderEvents(ctx, { orderId: one.orderId!, dryRun: true });
    assert.deepEqual(byOrder.events, [
      { eventId: seen.get(String(one.orderId))![0]!.eventId, type: 'order.created', orderId: String(one.orderId) },
    ]);
    const bySince = await replayOrderEvents(ctx, { since: new Date(row!.createdAt.getTime() - 1), dryRun: true });
    assert.ok(bySince.events.every((e) => e.type !== ORDER_CREATED_BATCH && e.eventId !== eventId));
    for (const t of tickets) assert.ok(bySince.events.some((e) => e.orderId === String(t.orderId)));
  });

  it('every admitted ticket becomes one order with one order.created event, carried in batches', async (t) => {
    await start('restful/main.ts', { QIANFAN_HTTP__PORT: String(PORT_A) }, '19160');
    // B keeps its tickets for a minute (or 1,000): they are only in its memory and Redis when it dies.
    const restfulB = await start(
      'restful/main.ts',
      {
        QIANFAN_HTTP__PORT: String(PORT_B),
        QIANFAN_ADMIN__RESTFUL_PORT: '19170',
        QIANFAN_SERVICE__INSTANCE: '62',
        QIANFAN_FLASH_SALE__BATCH_INTERVAL_MS: '60000',
        QIANFAN_FLASH_SALE__BATCH_SIZE: '1000',
      },
      '19170',
    );
    let consumer = await start('consumer/main.ts', {}, '19162');
    await start('job/main.ts', {}, '19163');

    const [sku] = await makeSkus(ctx, [{ price: 9900, available: UNITS }]);
    const admin = await signDevToken(ctx.config.auth, { userId: '1', roles: ['admin'] }, 600);
    const created = await fetch(`http://127.0.0.1:${PORT_A}/v1/admin/flash-sales`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        skuId: String(sku),
        price: 100,
        stock: UNITS,
        perUserLimit: 1,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const saleId = ((await created.json()) as { id: string }).id;
    const ticketsOf = () =>
      ctx.db
        .select()
        .from(flashSaleTickets)
        .where(eq(flashSaleTickets.saleId, BigInt(saleId)));
    const countTickets = async () => {
      const [r] = await ctx.db
        .select({ n: sql<string>`COUNT(*)` })
        .from(flashSaleTickets)
        .where(eq(flashSaleTickets.saleId, BigInt(saleId)));
      return Number(r?.n ?? 0);
    };

    const tokens = await Promise.all(
      Array.from({ length: BUYERS }, (_, i) =>
        signDevToken(ctx.config.auth, { userId: String(firstUser + BigInt(i)), roles: ['user'] }, 600),
      ),
    );
    const statuses = new Map<string, number>();
    const viaB: number[] = [];
    let next = 0;
    let consumerKilledAt = -1;
    const worker = async () => {
      for (;;) {
        const i = next++;
        if (i >= ATTEMPTS) return;
        // One attempt in ten goes to B; the buyers cycle, so later attempts repeat buyers (limit 1).
        const port = i % 10 === 0 ? PORT_B : PORT_A;
        const res = await fetch(`http://127.0.0.1:${port}/v1/flash-sales/${saleId}/purchases`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${tokens[i % BUYERS]}`,
            'idempotency-key': randomUUID(),
            'content-type': 'application/json',
          },
          body: JSON.stringify({ address }),
        });
        const body = (await res.json()) as { code?: string };
        const k = res.status === 202 ? '202' : `${res.status} ${body.code}`;
        statuses.set(k, (statuses.get(k) ?? 0) + 1);
        if (res.status === 202 && port === PORT_B) viaB.push(i);
      }
    };
    // The consumer dies -9 while it writes batches: once a few hundred orders exist.
    const killer = (async () => {
      await waitFor('the first orders', 120_000, async () => (await countTickets()) >= 300);
      consumerKilledAt = await countTickets();
      consumer.child.kill('SIGKILL');
      await consumer.exited;
    })();
    await Promise.all(Array.from({ length: 32 }, worker));
    await killer;

    // Every admission answered 202 or a refusal with its code; exactly the units were admitted.
    assert.deepEqual([...statuses.keys()].sort(), ['202', '409 PURCHASE_LIMIT_REACHED', '409 SOLD_OUT'].sort());
    assert.equal(statuses.get('202'), UNITS, JSON.stringify([...statuses]));
    assert.ok(viaB.length > 0, 'restful B admitted no ticket');
    assert.ok(consumerKilledAt > 0 && consumerKilledAt < UNITS, `consumer killed at ${consumerKilledAt} orders`);

    // B dies with its tickets buffered: none of them has reached the DB.
    restfulB.child.kill('SIGKILL');
    await restfulB.exited;
    const before = await ticketsOf();
    assert.ok(before.length <= UNITS - viaB.length, 'B flushed its tickets although it buffers them for a minute');

    // A new consumer; the job re-sends what B never sent and what the killed consumer left.
    consumer = await start('consumer/main.ts', {}, '19162');
    const rows = await waitFor(`all ${UNITS} tickets ordered`, 180_000, async () => {
      const r = await ticketsOf();
      return r.length === UNITS ? r : undefined;
    });
    assert.ok(rows.every((t) => t.status === 'ORDERED' && t.orderId !== null));
    const orderIds = rows.map((t) => t.orderId!);
    assert.equal(new Set(orderIds.map(String)).size, UNITS, 'two tickets share an order');
    const made = await ctx.db
      .select({ id: orders.id, userId: orders.userId })
      .from(orders)
      .where(inArray(orders.id, orderIds));
    assert.equal(made.length, UNITS);
    assert.equal(new Set(made.map((o) => String(o.userId))).size, UNITS, 'a buyer got two orders');
    const [all] = await ctx.db
      .select({ n: sql<string>`COUNT(*)` })
      .from(orders)
      .where(and(sql`${orders.userId} >= ${firstUser}`, sql`${orders.userId} < ${firstUser + BigInt(BUYERS)}`));
    assert.equal(Number(all?.n), UNITS, 'orders beyond the tickets');

    // Redis and MySQL agree.
    const stats = await flashSaleStats(ctx, BigInt(saleId));
    assert.equal(stats.redis.remaining, 0);
    assert.equal(stats.redis.queuedTickets, 0);
    assert.equal(stats.db.sold, UNITS);
    assert.equal((await reconcileFlashSale(ctx, BigInt(saleId))).action, 'ok');

    // Events: each order's order.created exactly once (one event id; redeliveries of a message keep it),
    // none for an order that does not exist. Past the check-back's rollback bound (9 s in the test
    // config), a half message of a batch the killed consumer never committed would have shown by now.
    await waitFor('an event for every order', 90_000, async () => orderIds.every((id) => seen.has(String(id))));
    await sleep(ctx.config.rocketmq.txRollbackAfterMs + 3000);
    const known = new Set(orderIds.map(String));
    const bigSale = [...seen].filter(([, list]) => list[0]!.userId < firstUser + BigInt(BUYERS));
    const phantoms = bigSale.map(([id]) => id).filter((id) => !known.has(id));
    assert.deepEqual(phantoms, [], 'events for orders that were never committed');
    for (const [orderId, list] of bigSale) {
      const ids = new Set(list.map((e) => e.eventId));
      assert.equal(ids.size, 1, `order ${orderId} has ${ids.size} event ids`);
      assert.equal(new Set(list.map((e) => e.messageId)).size, 1, `order ${orderId}'s event came in two messages`);
      assert.ok(list.every((e) => e.type === 'order.created' && e.version === 0));
    }
    // The batched shape: many orders per broker message, and one tx-log row per batch besides the events'.
    const messages = new Set(bigSale.map(([, l]) => l[0]!.messageId));
    assert.ok(messages.size <= UNITS / 10, `${messages.size} messages for ${UNITS} orders`);
    const [batches] = await ctx.db
      .select({ n: sql<string>`COUNT(*)` })
      .from(mqTxLog)
      .where(and(eq(mqTxLog.eventType, ORDER_CREATED_BATCH), eq(mqTxLog.messageKey, `flashsale:${saleId}`)));
    assert.equal(Number(batches?.n), messages.size, 'one committed batch row per message');
    t.diagnostic(
      `${UNITS} orders in ${messages.size} messages; consumer killed at ${consumerKilledAt} orders; ${viaB.length} tickets buffered in restful B when killed`,
    );
  });
});
