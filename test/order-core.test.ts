import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { AppError } from '../internal/errorx/index.js';
import {
  executeSql,
  mqTxLog,
  orderColumns,
  orderItems,
  orderStatusLog,
  orders,
  selectSql,
} from '../internal/model/index.js';
import {
  cancelOrder,
  createOrder,
  decide,
  getOrderDetail,
  listOrders,
  type OrderEvent,
  orderStatuses,
  transitions,
} from '../internal/order/index.js';
import { cachedListPage, invalidateOrderLists, MAX_QUERIES } from '../internal/order/list-cache.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, ordersOfUser, stockOf } from './helpers/orders.js';

const isCode = (code: string) => (err: unknown) => err instanceof AppError && err.code === code;
let nextUser = BigInt(Date.now()) * 1000n;
const newUser = () => ++nextUser;
const user = { type: 'USER' as const, id: 'u' };

describe('order state machine (pure)', () => {
  const events: OrderEvent[] = [
    'pay',
    'cancel',
    'ship',
    'ship_part',
    'deliver',
    'confirm',
    'request_refund',
    'complete_refund',
    'fail_refund',
    'retry_refund',
  ];
  it('every (state, event) pair is a move, a no-op or illegal exactly as the table says', () => {
    const legal = new Set(
      Object.entries(transitions).flatMap(([from, row]) => Object.keys(row).map((e) => `${from}:${e}`)),
    );
    let moves = 0;
    let noops = 0;
    for (const s of orderStatuses) {
      for (const e of events) {
        const d = decide(s, e);
        if (legal.has(`${s}:${e}`)) {
          assert.equal(d.kind, 'move');
          moves++;
        } else if (d.kind === 'noop') {
          noops++;
          assert.ok(
            Object.values(transitions).some((row) => row[e] === s),
            `${s}:${e} no-op without a way into ${s}`,
          );
        } else assert.equal(d.kind, 'illegal', `${s}:${e}`);
      }
    }
    assert.equal(moves, 18);
    // After-sales that refunded everything move a paid order of any shipping state straight to REFUNDED.
    assert.equal(decide('DELIVERED', 'complete_refund').kind, 'move');
    assert.equal(decide('SHIPPED', 'complete_refund').kind, 'move');
    assert.equal(decide('PARTIALLY_SHIPPED', 'complete_refund').kind, 'move');
    assert.equal(decide('PENDING_PAYMENT', 'complete_refund').kind, 'illegal');
    // Parcels: the first of several, then the last; a SHIPPED order with no delivery signal completes.
    assert.equal(decide('PAID', 'ship_part').kind, 'move');
    assert.equal(decide('PARTIALLY_SHIPPED', 'ship').kind, 'move');
    assert.equal(decide('PARTIALLY_SHIPPED', 'ship_part').kind, 'noop');
    assert.equal(decide('PARTIALLY_SHIPPED', 'deliver').kind, 'illegal');
    assert.equal(decide('PARTIALLY_SHIPPED', 'request_refund').kind, 'illegal');
    // The whole-order refund is a cancel after payment; delivered goods go back by after-sale.
    assert.equal(decide('PAID', 'request_refund').kind, 'move');
    assert.equal(decide('DELIVERED', 'request_refund').kind, 'illegal');
    assert.equal(decide('COMPLETED', 'request_refund').kind, 'illegal');
    assert.equal(decide('SHIPPED', 'confirm').kind, 'move');
    assert.equal(decide('REFUNDING', 'fail_refund').kind, 'move');
    assert.equal(decide('REFUND_FAILED', 'retry_refund').kind, 'move');
    assert.equal(decide('PAID', 'fail_refund').kind, 'illegal');
    assert.equal(decide('PENDING_PAYMENT', 'pay').kind, 'move');
    assert.equal(decide('PAID', 'pay').kind, 'noop');
    assert.equal(decide('CANCELLED', 'pay').kind, 'illegal');
    assert.equal(decide('SHIPPED', 'cancel').kind, 'illegal');
    assert.equal(decide('CANCELLED', 'cancel').kind, 'noop');
    assert.ok(noops > 0);
  });
});

describe('orders against real MariaDB and RocketMQ', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
  });
  after(async () => ctx?.close());

  it('create prices from the SKU table, reserves stock, logs the status and the event', async () => {
    const [a, b] = await makeSkus(ctx, [
      { price: 1999, available: 10 },
      { price: 500, available: 3 },
    ]);
    const userId = newUser();
    const { order, items } = await createOrder(ctx, {
      userId,
      items: [
        { skuId: a!, quantity: 2 },
        { skuId: b!, quantity: 3 },
      ],
      address,
      note: 'leave at the door',
    });
    assert.equal(order.status, 'PENDING_PAYMENT');
    assert.equal(order.totalAmount, 2 * 1999 + 3 * 500);
    assert.equal(order.orderNo, `QF${order.id.toString().padStart(19, '0')}`);
    assert.deepEqual(
      items.map((i) => [i.quantity, i.unitPrice, i.lineTotal]),
      [
        [2, 1999, 3998],
        [3, 500, 1500],
      ],
    );
    assert.deepEqual(await stockOf(ctx, a!), { available: 8, reserved: 2, sold: 0 });
    assert.deepEqual(await stockOf(ctx, b!), { available: 0, reserved: 3, sold: 0 });
    const log = await ctx.db.select().from(orderStatusLog).where(eq(orderStatusLog.orderId, order.id));
    assert.deepEqual(
      log.map((l) => [l.fromStatus, l.toStatus]),
      [['', 'PENDING_PAYMENT']],
    );
    const tx = await ctx.db.select().from(mqTxLog).where(eq(mqTxLog.messageKey, order.id.toString()));
    assert.deepEqual(
      tx.map((t) => t.eventType),
      ['order.created'],
    );
    const detail = await getOrderDetail(ctx, { orderId: order.id, userId });
    assert.equal(detail.items.length, 2);
    assert.equal(detail.order.address.city, 'Hangzhou');
    // The rows are written as plain SQL: read back through drizzle, every column is what create returned.
    const [stored] = await ctx.db.select(orderColumns).from(orders).where(eq(orders.id, order.id));
    assert.deepEqual(stored, order);
    const storedItems = await ctx.db.select().from(orderItems).where(eq(orderItems.orderId, order.id));
    assert.deepEqual(
      storedItems.sort((x, y) => (x.id < y.id ? -1 : 1)),
      items,
    );
    assert.deepEqual(
      [tx[0]?.payload.orderId, tx[0]?.payload.orderNo, tx[0]?.payload.status],
      [order.id.toString(), order.orderNo, 'PENDING_PAYMENT'],
    );
  });

  it('plain statements run on the connection of the transaction they are given, and roll back with it', async () => {
    const [skuId] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const ids = await ctx.db.transaction(async (tx) => {
      const [[viaDrizzle]] = (await tx.execute(sql`SELECT CONNECTION_ID() AS id`)) as unknown as [[{ id: number }]];
      const [viaPlain] = await selectSql<{ id: number }>(tx, 'SELECT CONNECTION_ID() AS id', []);
      return [viaDrizzle?.id, viaPlain?.id];
    });
    assert.ok(ids[0]);
    assert.equal(ids[1], ids[0]);
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await executeSql(tx, 'UPDATE skus SET available = 0 WHERE id = ?', [skuId]);
        throw new Error('abort');
      }),
      /abort/,
    );
    assert.deepEqual(await stockOf(ctx, skuId!), { available: 5, reserved: 0, sold: 0 });
  });

  it('bad input is refused with a code and writes nothing', async () => {
    const [a] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const userId = newUser();
    const cases: Array<[string, Parameters<typeof createOrder>[1]['items']]> = [
      ['VALIDATION_FAILED', []],
      ['VALIDATION_FAILED', [{ skuId: a!, quantity: 0 }]],
      ['VALIDATION_FAILED', [{ skuId: a!, quantity: -1 }]],
      ['VALIDATION_FAILED', [{ skuId: a!, quantity: 1.5 }]],
      ['VALIDATION_FAILED', [{ skuId: a!, quantity: 1_000_000 }]],
      [
        'VALIDATION_FAILED',
        [
          { skuId: a!, quantity: 1 },
          { skuId: a!, quantity: 1 },
        ],
      ],
      ['VALIDATION_FAILED', Array.from({ length: 51 }, (_, i) => ({ skuId: BigInt(i + 1), quantity: 1 }))],
      ['SKU_NOT_FOUND', [{ skuId: 1n, quantity: 1 }]],
      ['INSUFFICIENT_STOCK', [{ skuId: a!, quantity: 6 }]],
    ];
    for (const [code, items] of cases) {
      await assert.rejects(
        createOrder(ctx, { userId, items, address }),
        isCode(code),
        `${code} for ${items.length} items`,
      );
    }
    assert.equal((await ordersOfUser(ctx, userId)).length, 0);
    assert.deepEqual(await stockOf(ctx, a!), { available: 5, reserved: 0, sold: 0 });
  });

  it('an order over several SKUs reserves all of them or none, and names the SKU that is short', async () => {
    const [a, b] = await makeSkus(ctx, [
      { price: 100, available: 5 },
      { price: 200, available: 2 },
    ]);
    const userId = newUser();
    const short = [
      { skuId: a!, quantity: 5 },
      { skuId: b!, quantity: 3 },
    ];
    await assert.rejects(createOrder(ctx, { userId, items: short, address }), (err: unknown) => {
      assert.ok(isCode('INSUFFICIENT_STOCK')(err));
      assert.equal((err as { details?: { skuId?: string } }).details?.skuId, b!.toString());
      return true;
    });
    assert.deepEqual(await stockOf(ctx, a!), { available: 5, reserved: 0, sold: 0 });
    assert.deepEqual(await stockOf(ctx, b!), { available: 2, reserved: 0, sold: 0 });
    assert.equal((await ordersOfUser(ctx, userId)).length, 0);

    const { order } = await createOrder(ctx, {
      userId,
      items: [
        { skuId: b!, quantity: 2 },
        { skuId: a!, quantity: 5 },
      ],
      address,
    });
    assert.equal(order.status, 'PENDING_PAYMENT');
    assert.deepEqual(await stockOf(ctx, a!), { available: 0, reserved: 5, sold: 0 });
    assert.deepEqual(await stockOf(ctx, b!), { available: 0, reserved: 2, sold: 0 });
  });

  it('cancel returns the stock once; again is a no-op; another user gets not-found; timeout waits for the deadline', async () => {
    const [a] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const userId = newUser();
    const { order } = await createOrder(ctx, { userId, items: [{ skuId: a!, quantity: 4 }], address });
    await assert.rejects(
      cancelOrder(ctx, { orderId: order.id, reason: 'USER', actor: user, userId: newUser() }),
      isCode('ORDER_NOT_FOUND'),
    );
    await assert.rejects(
      cancelOrder(ctx, { orderId: order.id, reason: 'TIMEOUT', actor: user }),
      isCode('ORDER_STATE_CONFLICT'),
    );
    const first = await cancelOrder(ctx, { orderId: order.id, reason: 'USER', actor: user, userId });
    assert.equal(first.changed, true);
    assert.equal(first.order.status, 'CANCELLED');
    assert.equal(first.order.version, 1);
    const again = await cancelOrder(ctx, { orderId: order.id, reason: 'USER', actor: user, userId });
    assert.equal(again.changed, false);
    assert.deepEqual(await stockOf(ctx, a!), { available: 5, reserved: 0, sold: 0 });
    const log = await ctx.db.select().from(orderStatusLog).where(eq(orderStatusLog.orderId, order.id));
    assert.equal(log.length, 2);
  });

  it('one buyer cannot hold more than the configured unpaid orders or reserved units; refusals write nothing', async () => {
    const capped = {
      ...ctx,
      config: { ...ctx.config, order: { ...ctx.config.order, maxPendingOrdersPerUser: 3, maxPendingUnitsPerUser: 10 } },
    };
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 100 }]);
    const buyer = newUser();
    const one = { userId: buyer, items: [{ skuId: sku!, quantity: 1 }], address };
    const held = [];
    for (let i = 0; i < 3; i++) held.push((await createOrder(capped, one)).order);
    await assert.rejects(createOrder(capped, one), isCode('TOO_MANY_PENDING_ORDERS'));
    assert.equal((await ordersOfUser(ctx, buyer)).length, 3);
    assert.deepEqual(await stockOf(ctx, sku!), { available: 97, reserved: 3, sold: 0 });
    // Paying or cancelling one frees a place.
    await cancelOrder(ctx, { orderId: held[0]!.id, reason: 'USER', actor: user, userId: buyer });
    await createOrder(capped, one);

    const bulk = newUser();
    const units = (quantity: number) => ({ userId: bulk, items: [{ skuId: sku!, quantity }], address });
    await createOrder(capped, units(6));
    await assert.rejects(createOrder(capped, units(5)), isCode('TOO_MANY_PENDING_ORDERS'));
    await createOrder(capped, units(4));
    assert.equal((await ordersOfUser(ctx, bulk)).length, 2);
    assert.deepEqual(await stockOf(ctx, sku!), { available: 87, reserved: 13, sold: 0 });
  });

  it('200 parallel creates for a SKU with stock 50 make exactly 50 orders', async () => {
    const [a] = await makeSkus(ctx, [{ price: 990, available: 50 }]);
    const users = Array.from({ length: 200 }, () => newUser());
    const results = await Promise.allSettled(
      users.map((userId) => createOrder(ctx, { userId, items: [{ skuId: a!, quantity: 1 }], address })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = results.filter((r) => r.status === 'rejected' && isCode('INSUFFICIENT_STOCK')(r.reason)).length;
    assert.equal(ok, 50);
    assert.equal(refused, 150);
    assert.deepEqual(await stockOf(ctx, a!), { available: 0, reserved: 50, sold: 0 });
  });

  it('lists my orders newest first with a cursor, filtered by status', async () => {
    const [a] = await makeSkus(ctx, [{ price: 100, available: 100 }]);
    const userId = newUser();
    const created = [];
    for (let i = 0; i < 5; i++)
      created.push((await createOrder(ctx, { userId, items: [{ skuId: a!, quantity: 1 }], address })).order.id);
    await cancelOrder(ctx, { orderId: created[0]!, reason: 'USER', actor: user, userId });
    const p1 = await listOrders(ctx, { userId, limit: 2 });
    assert.deepEqual(
      p1.orders.map((o) => o.id),
      [created[4], created[3]],
    );
    const p2 = await listOrders(ctx, { userId, limit: 2, cursor: p1.nextCursor! });
    const p3 = await listOrders(ctx, { userId, limit: 2, cursor: p2.nextCursor! });
    assert.deepEqual(
      [...p2.orders, ...p3.orders].map((o) => o.id),
      [created[2], created[1], created[0]],
    );
    assert.equal(p3.nextCursor, null);
    const cancelled = await listOrders(ctx, { userId, status: 'CANCELLED' });
    assert.deepEqual(
      cancelled.orders.map((o) => o.id),
      [created[0]],
    );
    await assert.rejects(listOrders(ctx, { userId, limit: 1000 }), isCode('VALIDATION_FAILED'));
    await assert.rejects(listOrders(ctx, { userId, cursor: 'garbage' }), isCode('VALIDATION_FAILED'));
  });

  it('cached list pages follow every change, and a fill that raced a change never puts the old page back', async () => {
    const [a] = await makeSkus(ctx, [{ price: 100, available: 100 }]);
    const userId = newUser();
    const first = (await createOrder(ctx, { userId, items: [{ skuId: a!, quantity: 1 }], address })).order;
    const page = await listOrders(ctx, { userId });
    assert.deepEqual(
      page.orders.map((o) => [o.id, o.status]),
      [[first.id, 'PENDING_PAYMENT']],
    );
    assert.equal(page.items.length, 1);
    assert.deepEqual(await listOrders(ctx, { userId }), page, 'the cached page round-trips exactly');
    const second = (await createOrder(ctx, { userId, items: [{ skuId: a!, quantity: 2 }], address })).order;
    assert.deepEqual(
      (await listOrders(ctx, { userId })).orders.map((o) => o.id),
      [second.id, first.id],
      'a new order shows at once',
    );
    await cancelOrder(ctx, { orderId: first.id, reason: 'USER', actor: user, userId });
    assert.deepEqual(
      (await listOrders(ctx, { userId })).orders.map((o) => o.status),
      ['PENDING_PAYMENT', 'CANCELLED'],
      'a transition shows at once',
    );
    // A reader loads the page, a change commits (and invalidates) before the reader fills the cache:
    // the stale page must not be served afterwards.
    const stale = await listOrders(ctx, { userId, limit: 5 });
    await cachedListPage(ctx, userId, 'race', async () => {
      await cancelOrder(ctx, { orderId: second.id, reason: 'USER', actor: user, userId });
      return stale;
    });
    const fresh = await cachedListPage(ctx, userId, 'race', () => listOrders(ctx, { userId, limit: 5 }));
    assert.deepEqual(
      fresh.orders.map((o) => o.status),
      ['CANCELLED', 'CANCELLED'],
    );
  });

  it('a page decoded once is served again only while its tag in Redis is the one it was read under', async () => {
    const userId = newUser();
    const key = `order:list:{${userId}}`;
    const q = '["tags"]';
    const pageOf = (nextCursor: string) => ({ orders: [], items: [], nextCursor });
    const loads: string[] = [];
    const read = (next: string) =>
      cachedListPage(ctx, userId, q, async () => {
        loads.push(next);
        return pageOf(next);
      });
    assert.equal((await read('a')).nextCursor, 'a', 'a miss loads and fills');
    const decoded = await read('unused');
    assert.equal(decoded.nextCursor, 'a');
    assert.ok(Object.isFrozen(decoded));
    assert.equal(await read('unused'), decoded, 'while the tag holds, the decoded page itself is served');
    // Another process refills the same epoch (a fill that raced this one): a new tag, so the page is read again.
    const [epoch] = await ctx.redis.hmget(key, '_e');
    await ctx.redis.hset(key, q, `${epoch ?? '0'}|${JSON.stringify(pageOf('b'))}`, `#${q}`, `${epoch ?? '0'}.99`);
    assert.equal((await read('unused')).nextCursor, 'b');
    // A change to the user's orders: the next read misses, loads and fills.
    await invalidateOrderLists(ctx, [userId]);
    assert.equal((await read('c')).nextCursor, 'c');
    assert.equal((await read('unused')).nextCursor, 'c');
    // A page written without a tag is served, and read whole every time.
    const [e2] = await ctx.redis.hmget(key, '_e');
    await ctx.redis.hdel(key, `#${q}`);
    await ctx.redis.hset(key, q, `${e2 ?? '0'}|${JSON.stringify(pageOf('d'))}`);
    assert.equal((await read('unused')).nextCursor, 'd');
    assert.equal((await read('unused')).nextCursor, 'd');
    assert.deepEqual(loads, ['a', 'c']);
  });

  it('list tags never repeat across hash expiry; a fill whose load outlived the TTL is refused; pages per user are capped', async () => {
    const userId = newUser();
    const key = `order:list:{${userId}}`;
    const q = '["expiry"]';
    const pageOf = (nextCursor: string) => ({ orders: [], items: [], nextCursor });
    const tagOf = async () => (await ctx.redis.hget(key, `#${q}`)) ?? '';
    await cachedListPage(ctx, userId, q, async () => pageOf('a'));
    const first = await tagOf();
    await ctx.redis.del(key); // expired (or evicted): the next fill starts from epoch 0 again
    assert.equal((await cachedListPage(ctx, userId, q, async () => pageOf('b'))).nextCursor, 'b');
    const second = await tagOf();
    assert.ok(first.startsWith('0.') && second.startsWith('0.'));
    assert.notEqual(second, first, 'a tag repeated: a process holding the first page would serve it for the second');
    assert.equal((await cachedListPage(ctx, userId, q, async () => assert.fail('cached'))).nextCursor, 'b');

    // A reader whose load took longer than the TTL may have read its epoch before a change whose hash has
    // since expired: its page is served to it but not cached.
    await ctx.redis.del(key);
    let now = 0;
    const slowClock = () => now;
    const slow = await cachedListPage(
      ctx,
      userId,
      q,
      async () => {
        now += 60_000;
        return pageOf('stale?');
      },
      slowClock,
    );
    assert.equal(slow.nextCursor, 'stale?');
    assert.equal(await ctx.redis.hget(key, q), null, 'a fill that outlived the TTL was stored');

    // At most MAX_QUERIES pages per user (two fields each, plus the epoch).
    for (let i = 0; i < MAX_QUERIES + 5; i++)
      await cachedListPage(ctx, userId, `["q${i}"]`, async () => pageOf(`p${i}`));
    assert.ok((await ctx.redis.hlen(key)) <= 2 * MAX_QUERIES + 1, `hash has ${await ctx.redis.hlen(key)} fields`);
  });
});
