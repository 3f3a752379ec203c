import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { requestAfterSale } from '../internal/aftersale/index.js';
import { signDevToken } from '../internal/auth/index.js';
import { confirmReceipt, markDelivered, shipOrder } from '../internal/delivery/index.js';
import { cancelOrder, createOrder, getItems } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, payOrder } from './helpers/orders.js';

let nextUser = BigInt(Date.now()) * 1000n + 800_000n;

// A buyer's counts per status and hiding finished orders, through the HTTP app on the real stack.
describe('order counts and hidden orders (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let sku: bigint;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
    [sku] = (await makeSkus(ctx, [{ price: 500, available: 100 }])) as [bigint];
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, userId: bigint, key?: string) => {
    const token = await signDevToken(ctx.config.auth, { userId: String(userId), roles: ['user'] }, 600);
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) },
    });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
  };
  const counts = async (userId: bigint) => {
    const r = await call('GET', '/v1/orders/counts', userId);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { byStatus: Record<string, number>; total: number };
  };
  const cacheReads = async (result: string) => {
    const text = await ctx.metrics.metrics();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('qianfan_cache_requests_total{') &&
          l.includes('cache="order_counts"') &&
          l.includes(`result="${result}"`),
      );
    return Number(line?.split(' ').at(-1) ?? 0);
  };
  const create = async (userId: bigint) =>
    (await createOrder(ctx, { userId, items: [{ skuId: sku, quantity: 1 }], address })).order.id;
  const pay = (orderId: bigint, userId: bigint) => payOrder(ctx, orderId, userId);

  it('counts every status (0 included), served from the cache, and exact right after each change', async () => {
    const userId = ++nextUser;
    const empty = await counts(userId);
    assert.equal(empty.total, 0);
    assert.equal(Object.keys(empty.byStatus).length, 10);
    assert.ok(Object.values(empty.byStatus).every((n) => n === 0));

    const a = await create(userId);
    const b = await create(userId);
    await create(userId);
    let c = await counts(userId);
    assert.deepEqual([c.byStatus.PENDING_PAYMENT, c.total], [3, 3]);
    const hits = await cacheReads('hit');
    c = await counts(userId);
    assert.equal(await cacheReads('hit'), hits + 1, 'the second read is a cache hit');
    assert.equal(c.byStatus.PENDING_PAYMENT, 3);

    // Each change shows on the very next read: no stale badge.
    await pay(a, userId);
    c = await counts(userId);
    assert.deepEqual([c.byStatus.PENDING_PAYMENT, c.byStatus.PAID, c.total], [2, 1, 3]);
    await cancelOrder(ctx, { orderId: b, reason: 'USER', actor: { type: 'USER', id: String(userId) }, userId });
    c = await counts(userId);
    assert.deepEqual([c.byStatus.PENDING_PAYMENT, c.byStatus.PAID, c.byStatus.CANCELLED], [1, 1, 1]);
    // Another buyer's orders never count.
    assert.equal((await counts(++nextUser)).total, 0);
  });

  it('a buyer hides a finished order: gone from list and counts, still readable; unfinished or foreign ones are refused', async () => {
    const userId = ++nextUser;
    const done = await create(userId);
    const open = await create(userId);
    await cancelOrder(ctx, { orderId: done, reason: 'USER', actor: { type: 'USER', id: String(userId) }, userId });
    const ids = async (query = '') =>
      ((await call('GET', `/v1/orders${query}`, userId)).body.orders as Array<{ id: string }>).map((o) => o.id);
    assert.deepEqual(await ids(), [String(open), String(done)]);
    const before = await call('GET', `/v1/orders/${done}`, userId);

    const refused = await call('POST', `/v1/orders/${open}/hide`, userId, randomUUID());
    assert.equal(refused.status, 409);
    assert.equal(refused.body.code, 'ORDER_STATE_CONFLICT');
    assert.equal(refused.body.details.currentStatus, 'PENDING_PAYMENT');
    const foreign = await call('POST', `/v1/orders/${done}/hide`, ++nextUser, randomUUID());
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.code, 'ORDER_NOT_FOUND');
    const noKey = await call('POST', `/v1/orders/${done}/hide`, userId);
    assert.equal(noKey.status, 400, JSON.stringify(noKey.body));

    const hid = await call('POST', `/v1/orders/${done}/hide`, userId, randomUUID());
    assert.equal(hid.status, 200, JSON.stringify(hid.body));
    assert.deepEqual(hid.body, { orderId: String(done), hidden: true });
    assert.equal((await call('POST', `/v1/orders/${done}/hide`, userId, randomUUID())).status, 200, 'hiding twice');
    assert.deepEqual(await ids(), [String(open)]);
    assert.deepEqual(await ids('?hidden=true'), [String(done)]);
    const c = await counts(userId);
    assert.deepEqual([c.byStatus.CANCELLED, c.byStatus.PENDING_PAYMENT, c.total], [0, 1, 1]);
    // The order itself is unchanged: same version, same ETag.
    const after = await call('GET', `/v1/orders/${done}`, userId);
    assert.equal(after.status, 200);
    assert.equal(after.body.version, before.body.version);

    assert.equal((await call('POST', `/v1/orders/${done}/unhide`, userId, randomUUID())).status, 200);
    assert.deepEqual(await ids(), [String(open), String(done)]);
    assert.equal((await counts(userId)).byStatus.CANCELLED, 1);
    assert.equal((await call('GET', '/v1/orders?hidden=maybe', userId)).status, 400);
  });
  it('a hidden COMPLETED order is shown again when the buyer opens an after-sale on it (not finished while it runs)', async () => {
    const userId = ++nextUser;
    const id = await create(userId);
    const admin = { type: 'ADMIN' as const, id: 't' };
    await payOrder(ctx, id, userId);
    await shipOrder(ctx, { orderId: id, carrier: 'SF', trackingNo: `HID${id}`, actor: admin });
    await markDelivered(ctx, { orderId: id, actor: admin });
    await confirmReceipt(ctx, { orderId: id, userId, actor: { type: 'USER', id: String(userId) } });
    assert.equal((await call('POST', `/v1/orders/${id}/hide`, userId, randomUUID())).status, 200);
    const ids = async () =>
      ((await call('GET', '/v1/orders', userId)).body.orders as Array<{ id: string }>).map((o) => o.id);
    assert.deepEqual(await ids(), []);
    const [line] = await getItems(ctx.db, id);
    await requestAfterSale(ctx, {
      orderId: id,
      userId,
      kind: 'REFUND_ONLY',
      reason: 'broken',
      lines: [{ orderItemId: line!.id, quantity: 1 }],
    });
    assert.deepEqual(await ids(), [String(id)]);
    assert.equal((await counts(userId)).total, 1);
  });
});
