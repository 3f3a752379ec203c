import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import {
  flashSaleStats,
  reconcileFlashSale,
  requeueLostTickets,
  SendGate,
  saleKeys,
  sendTicketBatch,
} from '../internal/flashsale/index.js';
import { MARK_SENT, PURCHASE } from '../internal/flashsale/scripts.js';
import { flashSales, flashSaleTickets, mqTxLog, orderColumns, orders } from '../internal/model/index.js';
import { Batcher, type ConsumerLoop } from '../internal/mq/index.js';
import { cancelOrder, MAX_ORDERS_PER_BATCH_MESSAGE, ORDER_CREATED_BATCH } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { stall } from './chaos/stack.js';
import { testConfig } from './helpers/config.js';
import { startSubscription } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, stockOf } from './helpers/orders.js';
import { startProcess } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

const overrides = {
  // Its own Redis key space: 5,000 requests from 127.0.0.1 must not use up other tests' per-IP limit.
  QIANFAN_REDIS__KEY_PREFIX: 'qf:order:test:flash:',
  QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
  QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
  QIANFAN_FLASH_SALE__REQUEUE_AFTER_SECONDS: '2',
};
let nextUser = BigInt(Date.now()) * 1000n + 900_000n;

describe('flash sale (real Redis, RocketMQ, MariaDB)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let loops: ConsumerLoop[];
  before(async () => {
    ctx = await createServiceContext(testConfig(overrides), { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
    loops = [
      await startSubscription(ctx, 'qianfan-order-flashsale'),
      await startSubscription(ctx, 'qianfan-order-flashsale-returns'),
    ];
  });
  after(async () => {
    for (const l of loops ?? []) await l.stop();
    await app?.close();
    await ctx?.close();
  });

  const token = (userId: bigint, roles = ['user']) =>
    signDevToken(ctx.config.auth, { userId: String(userId), roles }, 600);
  async function call(method: 'GET' | 'POST', url: string, tok: string, body?: unknown, key?: string) {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tok}`, ...(key ? { 'idempotency-key': key } : {}) },
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : {}, headers: res.headers };
  }

  async function newSale(stock: number, perUserLimit: number, skuUnits = stock + 10, startsIn = -1000) {
    const [sku] = await makeSkus(ctx, [{ price: 9900, available: skuUnits }]);
    const adminTok = await token(1n, ['admin']);
    const r = await call(
      'POST',
      '/v1/admin/flash-sales',
      adminTok,
      {
        skuId: String(sku),
        price: 100,
        stock,
        perUserLimit,
        startsAt: new Date(Date.now() + startsIn).toISOString(),
        endsAt: new Date(Date.now() + Math.max(startsIn, 0) + 3600_000).toISOString(),
      },
      randomUUID(),
    );
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return { sku: sku!, saleId: r.body.id as string, adminTok };
  }

  const saleOrders = (saleId: string) =>
    ctx.db
      .select()
      .from(flashSaleTickets)
      .where(eq(flashSaleTickets.saleId, BigInt(saleId)));

  it('creating a sale twice with one Idempotency-Key (a proxy retrying a POST) makes one sale and takes the stock once', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 9900, available: 50 }]);
    const adminTok = await token(1n, ['admin']);
    const body = {
      skuId: String(sku),
      price: 100,
      stock: 20,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
    };
    const missing = await call('POST', '/v1/admin/flash-sales', adminTok, body);
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /idempotency-key/i);
    const key = randomUUID();
    const [a, b] = await Promise.all([
      call('POST', '/v1/admin/flash-sales', adminTok, body, key),
      call('POST', '/v1/admin/flash-sales', adminTok, body, key),
    ]);
    const again = await call('POST', '/v1/admin/flash-sales', adminTok, body, key);
    const created = [a, b, again].filter((r) => r.status === 201);
    assert.ok(created.length >= 2, JSON.stringify([a.status, b.status, again.status]));
    assert.ok([a, b].every((r) => r.status === 201 || r.body.code === 'IDEMPOTENCY_KEY_IN_FLIGHT'));
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(new Set(created.map((r) => r.body.id)).size, 1);
    assert.equal(again.headers.location, `/v1/admin/flash-sales/${again.body.id}`);
    const sales = await ctx.db.select().from(flashSales).where(eq(flashSales.skuId, sku!));
    assert.equal(sales.length, 1);
    assert.deepEqual(await stockOf(ctx, sku!), { available: 30, reserved: 0, sold: 0 });
    const changed = await call('POST', '/v1/admin/flash-sales', adminTok, { ...body, stock: 5 }, key);
    assert.equal(changed.status, 422);
  });

  it("the sale window is judged by Redis's clock, not the caller's: a replica whose clock runs 2 h ahead still admits", async () => {
    const { saleId } = await newSale(3, 1);
    const k = saleKeys(saleId);
    const buyer = String(++nextUser);
    const skewed = Date.now() + 2 * 3600_000; // past the sale's end by this caller's clock
    const seq = String(BigInt(Date.now()) * 1000n + 1n);
    const ticket = JSON.stringify({ userId: buyer, quantity: 1, status: 'QUEUED', address, queuedAt: skewed });
    const [code] = (await PURCHASE.run(
      ctx.redis,
      [k.meta, k.stock, k.users, k.tickets, k.queued, k.idem(buyer, randomUUID())],
      [skewed, buyer, 1, seq, ticket, 'hash', 60],
    )) as [number];
    assert.equal(code, 1, "refused as not active: the window was judged by the caller's clock");
    assert.equal(await ctx.redis.get(k.stock), '2');
    // Nothing of it stays queued for the requeue job: the test takes its admission back.
    await ctx.redis.zrem(k.queued, seq);
  });

  it('flashsale-requeue re-sends only tickets whose send was lost: a backlog the broker holds is neither multiplied nor failed', async () => {
    const { saleId } = await newSale(10, 1);
    const k = saleKeys(saleId);
    const admit = async (queuedAt: number) => {
      const buyer = String(++nextUser);
      const seq = String(ctx.ids.next());
      const ticket = JSON.stringify({ userId: buyer, quantity: 1, status: 'QUEUED', address, queuedAt });
      const [code] = (await PURCHASE.run(
        ctx.redis,
        [k.meta, k.stock, k.users, k.tickets, k.queued, k.idem(buyer, randomUUID())],
        [queuedAt, buyer, 1, seq, ticket, 'hash', 60],
      )) as [number];
      assert.equal(code, 1);
      return seq;
    };
    const longAgo = Date.now() - 10 * 60_000; // past the give-up time (20 intervals of 2 s)
    const [inBroker1, inBroker2, lost1, lost2] = [
      await admit(longAgo),
      await admit(longAgo),
      await admit(longAgo),
      await admit(longAgo),
    ];
    const recent = await admit(Date.now() - 5000); // due for a re-send, not for giving up
    // The first two went out in a batch the consumer has not reached yet (as sendTicketBatch marks them).
    await MARK_SENT.run(ctx.redis, [k.queued, k.sent], [`batch-1@${Date.now()}`, inBroker1!, inBroker2!]);
    const r = await requeueLostTickets(ctx);
    assert.ok(r.inBroker >= 2, JSON.stringify(r));
    const rowsOf = async (seqs: string[]) =>
      ctx.db
        .select()
        .from(flashSaleTickets)
        .where(
          inArray(
            flashSaleTickets.id,
            seqs.map((x) => BigInt(x)),
          ),
        );
    // Never sent for 20 intervals: failed, their units back. Sent: the broker has them, nothing changes.
    assert.deepEqual((await rowsOf([lost1!, lost2!])).map((t) => t.status).sort(), ['FAILED', 'FAILED']);
    assert.deepEqual(await rowsOf([inBroker1!, inBroker2!]), []);
    assert.equal((await ctx.redis.zscore(k.queued, inBroker1!)) !== null, true);
    assert.match((await ctx.redis.hget(k.sent, inBroker1!)) ?? '', /^batch-1@/);
    // The recent unsent one was sent again, and the consumer made its order. The wait covers more than
    // one invisible time (30 s): a message that an earlier test's consumer took and never acknowledged
    // holds its FIFO group that long before this one can be delivered (seen in CI).
    const made = await waitFor('the re-sent ticket to be ordered', 90_000, async () => {
      const [t] = await rowsOf([recent!]);
      return t?.status === 'ORDERED' ? t : undefined;
    });
    assert.ok(made.orderId);
    // The consumer settles the ticket in Redis (its sent mark dropped) just after its DB commit.
    await waitFor(
      'the settled ticket to lose its sent mark',
      5000,
      async () => (await ctx.redis.hget(k.sent, recent!)) === null,
    );
    await ctx.redis.zrem(k.queued, inBroker1!, inBroker2!); // this test's stand-in batch never existed
  });

  it("a ticket message of 1,000 tickets (flashSale.batchSize's most) becomes 1,000 orders, their events in messages of at most 500 the broker accepts", async () => {
    // One order.created.batch message of 1,000 orders carries 1,000 broker keys, beyond the proxy's
    // 16 KiB of user properties: refused, the batch would be retried until it is dead-lettered.
    const units = 1000;
    const { saleId } = await newSale(units, 1);
    const k = saleKeys(saleId);
    const now = Date.now();
    const tickets = Array.from({ length: units }, () => ({
      seq: String(ctx.ids.next()),
      userId: String(++nextUser),
      quantity: 1,
      address: address as unknown as Record<string, unknown>,
      queuedAt: now,
    }));
    for (let i = 0; i < units; i += 100) {
      await Promise.all(
        tickets.slice(i, i + 100).map(async (t) => {
          const state = JSON.stringify({ ...t, status: 'QUEUED' });
          const [code] = (await PURCHASE.run(
            ctx.redis,
            [k.meta, k.stock, k.users, k.tickets, k.queued, k.idem(t.userId, randomUUID())],
            [now, t.userId, 1, t.seq, state, 'hash', 60],
          )) as [number];
          assert.equal(code, 1);
        }),
      );
    }
    await sendTicketBatch(ctx, saleId, tickets);
    const rows = await waitFor('1,000 tickets to be ordered', 90_000, async () => {
      const r = await saleOrders(saleId);
      return r.length === units && r.every((t) => t.status === 'ORDERED') ? r : undefined;
    });
    const orderIds = rows.map((t) => String(t.orderId));
    assert.equal(new Set(orderIds).size, units);
    // Two batch messages of 500 orders each, and every order's order.created event exactly once.
    const batches = await ctx.db
      .select()
      .from(mqTxLog)
      .where(and(eq(mqTxLog.eventType, ORDER_CREATED_BATCH), eq(mqTxLog.messageKey, `flashsale:${saleId}`)));
    assert.deepEqual(
      batches.map((b) => (b.payload.eventIds as string[]).length),
      [MAX_ORDERS_PER_BATCH_MESSAGE, MAX_ORDERS_PER_BATCH_MESSAGE],
    );
    const created = await ctx.db
      .select({ key: mqTxLog.messageKey, eventId: mqTxLog.eventId })
      .from(mqTxLog)
      .where(and(eq(mqTxLog.eventType, 'order.created'), inArray(mqTxLog.messageKey, orderIds)));
    assert.deepEqual(created.map((c) => c.key).sort(), [...orderIds].sort());
    const carried = batches.flatMap((b) => b.payload.eventIds as string[]);
    assert.deepEqual([...carried].sort(), created.map((c) => c.eventId).sort());
    const stats = await flashSaleStats(ctx, BigInt(saleId));
    assert.equal(stats.sale.sold, units);
    assert.equal(await ctx.redis.zcard(k.queued), 0, 'every ticket settled in Redis');
  });

  it('reconcile never rewrites the stock of a live sale; once it ended it repairs by compare-and-set', async () => {
    const { saleId } = await newSale(7, 1);
    const k = saleKeys(saleId);
    await ctx.redis.set(k.stock, 999); // drift, e.g. a restore from an old snapshot
    const live = await reconcileFlashSale(ctx, BigInt(saleId));
    assert.equal(live.action, 'reported');
    assert.match(live.note ?? '', /live/);
    assert.equal(await ctx.redis.get(k.stock), '999');
    await ctx.redis.hset(k.meta, 'endsAt', Date.now() - 1000); // the sale has ended (Redis's own view)
    const ended = await reconcileFlashSale(ctx, BigInt(saleId));
    assert.equal(ended.action, 'repaired');
    assert.equal(await ctx.redis.get(k.stock), '7');
    assert.equal(await ctx.redis.ttl(k.meta), -1, 'a sale repaired is not yet settled');
    assert.equal((await reconcileFlashSale(ctx, BigInt(saleId))).action, 'ok');
    // Ended, agreeing, nothing in flight: its keys expire (Redis memory stays bounded).
    for (const key of [k.meta, k.stock]) assert.ok((await ctx.redis.ttl(key)) > 86_400, key);
  });

  it('an admin sale takes its stock from the SKU; refusals are 409/404 with codes', async () => {
    const { sku, saleId, adminTok } = await newSale(5, 1, 8);
    assert.deepEqual(await stockOf(ctx, sku), { available: 3, reserved: 0, sold: 0 });
    const over = await call(
      'POST',
      '/v1/admin/flash-sales',
      adminTok,
      {
        skuId: String(sku),
        price: 100,
        stock: 4,
        perUserLimit: 1,
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 60_000).toISOString(),
      },
      randomUUID(),
    );
    assert.equal(over.status, 409);
    assert.equal(over.body.code, 'INSUFFICIENT_STOCK');
    const user = await token(++nextUser);
    const asUser = await call(
      'POST',
      '/v1/admin/flash-sales',
      user,
      {
        skuId: String(sku),
        price: 1,
        stock: 1,
        perUserLimit: 1,
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 60_000).toISOString(),
      },
      randomUUID(),
    );
    assert.equal(asUser.status, 403);
    const pub = await call('GET', `/v1/flash-sales/${saleId}`, user);
    assert.equal(pub.status, 200);
    assert.equal(pub.body.remaining, 5);
    assert.equal(pub.body.price, 100);
    assert.equal((await call('GET', '/v1/flash-sales/1', user)).status, 404);
    const unknown = await call('POST', '/v1/flash-sales/1/purchases', user, { address }, randomUUID());
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'FLASH_SALE_NOT_FOUND');
    const future = await newSale(5, 1, 5, 3600_000);
    const early = await call('POST', `/v1/flash-sales/${future.saleId}/purchases`, user, { address }, randomUUID());
    assert.equal(early.status, 409);
    assert.equal(early.body.code, 'FLASH_SALE_NOT_ACTIVE');
    const bad = await call(
      'POST',
      `/v1/flash-sales/${saleId}/purchases`,
      user,
      { address: { ...address, phone: 'x' } },
      randomUUID(),
    );
    assert.equal(bad.status, 400);
  });

  it('5,000 buyers for 100 units (limit 1): exactly 100 tickets, then 100 orders, no oversell; Redis and DB agree', async () => {
    const { sku, saleId } = await newSale(100, 1, 100);
    const buyers = Array.from({ length: 5000 }, () => ++nextUser);
    const tokens = await Promise.all(buyers.map((u) => token(u)));
    const results: Array<{ status: number; body: { ticketId?: string; code?: string } }> = [];
    for (let i = 0; i < buyers.length; i += 500) {
      results.push(
        ...(await Promise.all(
          tokens
            .slice(i, i + 500)
            .map((t) => call('POST', `/v1/flash-sales/${saleId}/purchases`, t, { address }, randomUUID())),
        )),
      );
    }
    const queued = results.filter((r) => r.status === 202);
    const soldOut = results.filter((r) => r.status === 409 && r.body.code === 'SOLD_OUT');
    assert.equal(queued.length, 100);
    assert.equal(soldOut.length, 4900);
    const tickets = await waitFor('100 tickets to become orders', 60_000, async () => {
      const rows = await saleOrders(saleId);
      return rows.length === 100 ? rows : undefined;
    });
    assert.ok(tickets.every((t) => t.status === 'ORDERED' && t.orderId));
    const made = await ctx.db
      .select(orderColumns)
      .from(orders)
      .where(
        inArray(
          orders.id,
          tickets.map((t) => t.orderId!),
        ),
      );
    assert.equal(made.length, 100);
    assert.ok(made.every((o) => o.source === 'FLASHSALE' && o.status === 'PENDING_PAYMENT' && o.totalAmount === 100));
    assert.equal(new Set(made.map((o) => String(o.userId))).size, 100);
    assert.deepEqual(await stockOf(ctx, sku), { available: 0, reserved: 100, sold: 0 });
    const stats = await flashSaleStats(ctx, BigInt(saleId));
    assert.equal(stats.redis.remaining, 0);
    assert.equal(stats.redis.queuedTickets, 0);
    assert.equal(stats.db.sold, 100);
    assert.equal((await reconcileFlashSale(ctx, BigInt(saleId))).action, 'ok');
    // A buyer polls the ticket and sees the order; another buyer cannot see it.
    const first = queued[0]!.body.ticketId!;
    const owner = buyers[results.indexOf(queued[0]!)]!;
    const view = await call('GET', `/v1/flash-sales/tickets/${first}`, await token(owner));
    assert.equal(view.status, 200);
    assert.equal(view.body.status, 'ORDERED');
    assert.ok(view.body.orderId);
    assert.equal((await call('GET', `/v1/flash-sales/tickets/${first}`, await token(++nextUser))).status, 404);
  });

  it('one buyer racing 50 purchases with limit 2 gets at most 2 tickets; a repeated key replays', async () => {
    const { saleId } = await newSale(20, 2);
    const buyer = ++nextUser;
    const tok = await token(buyer);
    const rs = await Promise.all(
      Array.from({ length: 50 }, () =>
        call('POST', `/v1/flash-sales/${saleId}/purchases`, tok, { address }, randomUUID()),
      ),
    );
    assert.equal(rs.filter((r) => r.status === 202).length, 2);
    assert.equal(rs.filter((r) => r.body.code === 'PURCHASE_LIMIT_REACHED').length, 48);
    const key = randomUUID();
    const other = await token(++nextUser);
    const a = await call('POST', `/v1/flash-sales/${saleId}/purchases`, other, { address }, key);
    const b = await call('POST', `/v1/flash-sales/${saleId}/purchases`, other, { address }, key);
    assert.equal(b.status, 202);
    assert.equal(b.body.ticketId, a.body.ticketId);
    assert.equal(b.headers['idempotent-replayed'], 'true');
    const c = await call('POST', `/v1/flash-sales/${saleId}/purchases`, other, { quantity: 2, address }, key);
    assert.equal(c.status, 422);
  });

  it('a cancelled flash-sale order returns its unit to the sale, once', async () => {
    const { sku, saleId } = await newSale(3, 1, 3);
    const buyer = ++nextUser;
    const r = await call('POST', `/v1/flash-sales/${saleId}/purchases`, await token(buyer), { address }, randomUUID());
    assert.equal(r.status, 202);
    const [ticket] = await waitFor('the order', 30_000, async () => {
      const rows = await saleOrders(saleId);
      return rows.length === 1 && rows[0]!.status === 'ORDERED' ? rows : undefined;
    });
    assert.equal((await flashSaleStats(ctx, BigInt(saleId))).redis.remaining, 2);
    await cancelOrder(ctx, {
      orderId: ticket!.orderId!,
      reason: 'TIMEOUT',
      actor: { type: 'SYSTEM', id: 't' },
      now: new Date(Date.now() + 3600_000_000),
    });
    await waitFor(
      'the unit to come back',
      30_000,
      async () => (await flashSaleStats(ctx, BigInt(saleId))).redis.remaining === 3,
    );
    const stats = await flashSaleStats(ctx, BigInt(saleId));
    assert.equal(stats.db.sold, 0);
    assert.equal(stats.db.returned, 1);
    assert.deepEqual(await stockOf(ctx, sku), { available: 0, reserved: 0, sold: 0 });
    // The buyer may buy again: the unit and their allowance came back.
    const again = await call(
      'POST',
      `/v1/flash-sales/${saleId}/purchases`,
      await token(buyer),
      { address },
      randomUUID(),
    );
    assert.equal(again.status, 202);
  });

  it('while ticket batches cannot reach a stalled broker, purchases answer 503 (one a second still probes); once a batch gets through they resume, and every ticket admitted becomes an order', async () => {
    const { saleId } = await newSale(1000, 100);
    const tokens = await Promise.all([1, 2, 3, 4, 5].map(() => token(nextUser++)));
    const answers: Array<{ status: number; code?: string; retryAfter?: unknown; at: number }> = [];
    const buy = async () => {
      const tok = tokens[answers.length % tokens.length]!;
      const r = await call('POST', `/v1/flash-sales/${saleId}/purchases`, tok, { address }, randomUUID());
      answers.push({ status: r.status, code: r.body.code, retryAfter: r.headers['retry-after'], at: Date.now() });
      return r.status;
    };
    assert.equal(await buy(), 202);
    let stalledAt = 0;
    await stall('broker', 14_000, async () => {
      stalledAt = Date.now();
      // A purchase every 100 ms. The first batch sent into the stall fails after the client's three
      // attempts of rocketmq.requestTimeoutMs (about 10 s in): a shorter stall pauses nothing.
      while (Date.now() - stalledAt < 13_500) {
        await buy();
        await sleep(100);
      }
    });
    const during = answers.filter((a) => a.at >= stalledAt);
    const firstRefusal = during.findIndex((a) => a.status === 503);
    assert.ok(firstRefusal > 0, `purchases were never paused: ${during.map((a) => a.status).join(' ')}`);
    const paused = during.slice(firstRefusal);
    for (const a of paused.filter((x) => x.status !== 202)) {
      assert.equal(a.status, 503);
      assert.equal(a.code, 'DEPENDENCY_UNAVAILABLE');
      assert.ok(Number(a.retryAfter) > 0);
    }
    const probes = paused.filter((a) => a.status === 202).length;
    const pausedSeconds = (paused.at(-1)!.at - paused[0]!.at) / 1000;
    assert.ok(probes <= Math.ceil(pausedSeconds) + 1, `${probes} purchases admitted in ${pausedSeconds} s of pause`);
    assert.ok(paused.length >= 20, `only ${paused.length} purchases after the pause began`);

    // The broker answers again: a probe's batch gets through and admission opens (three in a row
    // within a second is more than the probes allow).
    await waitFor(
      'purchases admitted again',
      20_000,
      async () => (await buy()) === 202 && (await buy()) === 202 && (await buy()) === 202,
    );

    // Nothing partial: a refused purchase left no ticket; every admitted one becomes an order (the
    // requeue job sends those whose batch failed in the stall).
    const admitted = answers.filter((a) => a.status === 202).length;
    assert.equal(await ctx.redis.hlen(saleKeys(saleId).tickets), admitted);
    // Batches the consumer failed to write during the stall wait out its retry back-off (up to 30 s here).
    await waitFor(
      'every admitted ticket ordered',
      120_000,
      async () => {
        await requeueLostTickets(ctx, { saleId: BigInt(saleId) });
        const rows = await saleOrders(saleId);
        return rows.length === admitted && rows.every((r) => r.status === 'ORDERED');
      },
      1000,
    );
  });

  it('reconciling a sale with 200,000 tickets queued works (no call with one argument per ticket)', async () => {
    const { saleId } = await newSale(10, 1);
    const k = saleKeys(saleId);
    const n = 200_000;
    // Seeded in small pipelines: every command in one has the client's 500 ms timeout, so a 20,000-command
    // pipeline on a busy machine times out before its last replies arrive.
    for (let i = 0; i < n; i += 1000) {
      const p = ctx.redis.pipeline();
      for (let j = i; j < i + 1000; j++) {
        p.zadd(k.queued, Date.now(), `x${j}`);
        p.hset(k.tickets, `x${j}`, JSON.stringify({ quantity: 1 }));
      }
      await p.exec();
    }
    try {
      const r = await reconcileFlashSale(ctx, BigInt(saleId), { dryRun: true });
      assert.equal(r.expectedRemaining, 10 - n);
      assert.equal(r.action, 'reported');
    } finally {
      await ctx.redis.del(k.queued, k.tickets);
    }
  });

  it('a batch flushes at 100 tickets at once, and after 1 s with fewer (measured)', async () => {
    const flushes: Array<{ count: number; reason: string; ms: number }> = [];
    let t0 = Date.now();
    const sent: number[] = [];
    const b = new Batcher<number>({
      size: 100,
      intervalMs: 1000,
      maxBuffered: 1000,
      shardOf: () => 'sale',
      flush: async (_s, items) => {
        sent.push(items.length);
      },
      onFlush: (_s, count, reason) => flushes.push({ count, reason, ms: Date.now() - t0 }),
    });
    for (let i = 0; i < 100; i++) await b.add(i);
    t0 = Date.now();
    for (let i = 0; i < 7; i++) await b.add(i);
    await waitFor('the interval flush', 3000, () => flushes.length === 2, 10);
    await b.close();
    assert.equal(flushes[0]!.count, 100);
    assert.equal(flushes[0]!.reason, 'size');
    assert.equal(flushes[1]!.count, 7);
    assert.equal(flushes[1]!.reason, 'interval');
    assert.ok(flushes[1]!.ms >= 990 && flushes[1]!.ms < 1500, `interval flush after ${flushes[1]!.ms} ms`);
    assert.deepEqual(sent, [100, 7]);
  });

  it('kill -9 of restful with tickets buffered, and of the consumer mid-batch: every ticket ends ORDERED, once', async () => {
    const { saleId } = await newSale(60, 1, 60);
    // A restful process that buffers tickets for a minute, killed before it flushes.
    const port = 18000 + Math.floor(Math.random() * 500);
    const restful = startProcess('restful/main.ts', [], {
      ...overrides,
      QIANFAN_HTTP__PORT: String(port),
      QIANFAN_FLASH_SALE__BATCH_INTERVAL_MS: '60000',
      QIANFAN_FLASH_SALE__BATCH_SIZE: '1000',
    });
    await waitFor('restful to listen', 30_000, async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok);
    const buyers = Array.from({ length: 30 }, () => ++nextUser);
    for (const u of buyers) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/flash-sales/${saleId}/purchases`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await token(u)}`,
          'idempotency-key': randomUUID(),
          'content-type': 'application/json',
        },
        body: JSON.stringify({ address }),
      });
      assert.equal(res.status, 202);
    }
    restful.child.kill('SIGKILL');
    await restful.exited;
    assert.equal((await saleOrders(saleId)).length, 0, 'tickets reached the DB although they were buffered');
    assert.equal((await flashSaleStats(ctx, BigInt(saleId))).redis.queuedTickets, 30);

    // The in-test consumers stop; a consumer process takes the re-sent batch and is killed while on it.
    for (const l of loops) await l.stop();
    const consumer = startProcess('consumer/main.ts', [], overrides);
    await waitFor(
      'the consumer to be ready',
      60_000,
      async () => (await fetch(`http://127.0.0.1:${ctx.config.admin.consumerPort}/readyz`).catch(() => undefined))?.ok,
    );
    await sleep(2100); // past requeueAfterSeconds
    const first = await requeueLostTickets(ctx);
    assert.ok(first.resent >= 30, JSON.stringify(first));
    await sleep(150);
    consumer.child.kill('SIGKILL');
    await consumer.exited;

    // After restart (in-test consumers again) and the requeue job, every ticket ends ORDERED exactly once.
    loops = [
      await startSubscription(ctx, 'qianfan-order-flashsale'),
      await startSubscription(ctx, 'qianfan-order-flashsale-returns'),
    ];
    const rows = await waitFor('all 30 tickets ordered', 90_000, async () => {
      await sleep(2100);
      await requeueLostTickets(ctx);
      const r = await saleOrders(saleId);
      return r.length === 30 ? r : undefined;
    });
    assert.ok(rows.every((t) => t.status === 'ORDERED'));
    const made = await ctx.db.select(orderColumns).from(orders).where(inArray(orders.userId, buyers));
    assert.equal(made.length, 30, 'duplicate or missing orders');
    const stats = await flashSaleStats(ctx, BigInt(saleId));
    assert.equal(stats.redis.queuedTickets, 0);
    assert.equal(stats.redis.remaining, 30);
    assert.equal(stats.db.sold, 30);
    const k = saleKeys(saleId);
    assert.equal(Number(await ctx.redis.get(k.stock)) + stats.db.sold, stats.db.stock);
  });
});

describe('flash-sale send gate (no I/O)', () => {
  it('admits all while batches get through; after a failure one purchase a second, until a batch gets through', () => {
    let now = 1_000_000;
    const changes: boolean[] = [];
    const gate = new SendGate({ now: () => now, onChange: (paused) => changes.push(paused) });
    assert.ok([1, 2, 3].every(() => gate.admit()));
    gate.failed();
    gate.failed(); // a second failing batch changes nothing
    assert.equal(gate.paused, true);
    const admittedAt: number[] = [];
    for (let t = 0; t < 3000; t += 100) {
      now = 1_000_000 + t;
      if (gate.admit()) admittedAt.push(t);
    }
    // The first probe a full second after the failure, then one a second.
    assert.deepEqual(admittedAt, [1000, 2000]);
    gate.sent();
    assert.equal(gate.paused, false);
    assert.ok([1, 2, 3].every(() => gate.admit()));
    assert.deepEqual(changes, [true, false]);
  });
});
