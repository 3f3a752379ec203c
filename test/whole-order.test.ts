import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
// The cache itself, to play a reader that loaded the order just before a change.
import { orderDetailCache } from '../internal/order/detail-cache.js';
import { getOrder, getOrderDetail, loadOrderExtras, type OrderDetail } from '../internal/order/index.js';
import { getItems } from '../internal/order/repository.js';
import { applyPaymentResult, startPayment } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { type GetOrderResponse, OrderServiceClient, OrderStatus } from '../pkg/gen/qianfan/order/v1/order.js';
import { buildApp } from '../restful/app.js';
import { buildServer } from '../service/server.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { waitFor } from './helpers/wait.js';

let nextUser = BigInt(Date.now()) * 1000n + 610_000n;

// GET /v1/orders/{id}, GET /v1/admin/orders/{id} and gRPC GetOrder return the whole order. Payment attempts
// and refunds change without a new order version; the cached read and its ETag must still change with them.
describe('the whole order in one read (HTTP and gRPC; real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let rpc: ReturnType<typeof buildServer>;
  let grpc: OrderServiceClient;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
    rpc = buildServer(ctx);
    grpc = new OrderServiceClient(`127.0.0.1:${await rpc.listen('127.0.0.1', 0)}`, credentials.createInsecure());
  });
  after(async () => {
    grpc?.close();
    await rpc?.shutdown(1000);
    await app?.close();
    await ctx?.close();
  });

  const tokenFor = (userId: bigint, roles = ['user']) =>
    signDevToken(ctx.config.auth, { userId: String(userId), roles }, 600);
  async function call(
    method: 'GET' | 'POST',
    url: string,
    opts: { token?: string; body?: unknown; key?: boolean; etag?: string } = {},
  ) {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.key) headers['idempotency-key'] = randomUUID();
    if (opts.etag) headers['if-none-match'] = opts.etag;
    const res = await app.inject({
      method,
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    return {
      status: res.statusCode,
      body: res.body ? (JSON.parse(res.body) as Record<string, any>) : {},
      etag: String(res.headers.etag ?? ''),
    };
  }

  it('the buyer read carries payment attempts, refunds, shipments and the timeline; each change moves the ETag, also when the version stays', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 1500, available: 10 }]);
    const buyer = ++nextUser;
    const token = await tokenFor(buyer);
    const admin = await tokenFor(++nextUser, ['admin']);
    const created = await call('POST', '/v1/orders', {
      token,
      key: true,
      body: { items: [{ skuId: String(sku), quantity: 2 }], address },
    });
    assert.equal(created.status, 201);
    const url = `/v1/orders/${created.body.id}`;
    const read = () => call('GET', url, { token });

    const fresh = await read();
    assert.equal(fresh.body.source, 'APP');
    assert.deepEqual([fresh.body.payments, fresh.body.refunds, fresh.body.shipments], [[], [], []]);
    assert.deepEqual(
      fresh.body.timeline.map((t: any) => [t.version, t.from, t.to, t.actorType, t.actorId]),
      [[fresh.body.version, '', 'PENDING_PAYMENT', 'USER', String(buyer)]],
    );

    // A payment attempt opened: no new version, but a new ETag and the attempt in the (cached) read.
    const first = await call('POST', `${url}/payments`, { token, key: true });
    assert.equal(first.status, 201);
    const opened = await call('GET', url, { token, etag: fresh.etag });
    assert.equal(opened.status, 200, 'the old ETag still matched after a payment attempt was opened');
    assert.equal(opened.body.version, fresh.body.version);
    assert.notEqual(opened.etag, fresh.etag);
    assert.deepEqual(
      opened.body.payments.map((p: any) => [p.id, p.provider, p.status, p.amount, p.kept]),
      [[first.body.id, 'sandbox', 'PENDING', 3000, false]],
    );
    assert.equal((await call('GET', url, { token, etag: opened.etag })).status, 304);

    // It fails at the provider (webhook -> consumer): FAILED with its reason, again without a new version.
    // The provider's verified result, applied as the payment consumer applies it (the MQ path is
    // test/payment-flow.test.ts's; here only what the read shows matters).
    await applyPaymentResult(ctx, {
      paymentId: BigInt(first.body.id),
      status: 'FAILED',
      amount: 3000,
      currency: 'CNY',
      providerTxnId: `whole-${first.body.id}`,
      failureReason: 'declined in the sandbox',
    });
    const failed = await waitFor('the failed attempt in the read', 30_000, async () => {
      const r = await read();
      return r.body.payments[0].status === 'FAILED' ? r : undefined;
    });
    assert.equal(failed.body.version, fresh.body.version);
    assert.notEqual(failed.etag, opened.etag);
    assert.equal(failed.body.payments[0].failureReason, 'declined in the sandbox');

    const second = await call('POST', `${url}/payments`, { token, key: true });
    await applyPaymentResult(ctx, {
      paymentId: BigInt(second.body.id),
      status: 'SUCCEEDED',
      amount: 3000,
      currency: 'CNY',
      providerTxnId: `whole-${second.body.id}`,
    });
    const paid = await waitFor('PAID', 30_000, async () => {
      const r = await read();
      return r.body.status === 'PAID' ? r : undefined;
    });
    assert.deepEqual(
      paid.body.payments.map((p: any) => [p.id, p.status, p.kept]),
      [
        [first.body.id, 'FAILED', false],
        [second.body.id, 'SUCCEEDED', true],
      ],
    );

    const shipped = await call('POST', `/v1/admin/orders/${created.body.id}/ship`, {
      token: admin,
      key: true,
      body: { carrier: 'SF', trackingNo: `SFW${created.body.id}` },
    });
    assert.equal(shipped.status, 200);
    assert.equal(
      (await call('POST', `/v1/admin/orders/${created.body.id}/deliver`, { token: admin, key: true })).status,
      200,
    );
    // Delivered goods go back by after-sale: the buyer asks for every unit, the merchant approves.
    const lines = (await read()).body.items.map((i: any) => ({ orderItemId: i.id, quantity: i.quantity }));
    const asked = await call('POST', `${url}/after-sales`, {
      token,
      key: true,
      body: { kind: 'REFUND_ONLY', reason: 'damaged on arrival', lines },
    });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const refunded = await call('POST', `/v1/admin/after-sales/${asked.body.id}/approve`, {
      token: admin,
      key: true,
      body: {},
    });
    assert.equal(refunded.status, 200, JSON.stringify(refunded.body));
    const whole = await waitFor('the refund in the read', 30_000, async () => {
      const r = await read();
      return r.body.refunds.length === 1 ? r : undefined;
    });
    assert.deepEqual(
      whole.body.shipments.map((s: any) => [s.carrier, s.trackingNo, s.status]),
      [['SF', `SFW${created.body.id}`, 'DELIVERED']],
    );
    assert.deepEqual(
      whole.body.refunds.map((r: any) => [r.paymentId, r.amount, r.kind]),
      [[second.body.id, 3000, 'AFTER_SALE_LINES']],
    );
    // The buyer sees that staff acted, not who: the admin's id is internal.
    const staffLines = whole.body.timeline.filter((t: any) => t.actorType === 'ADMIN');
    assert.ok(staffLines.length >= 2, JSON.stringify(whole.body.timeline));
    assert.ok(staffLines.every((t: any) => t.actorId === ''));
    assert.equal(whole.body.notes, undefined);

    // Staff see who acted and the internal notes; a note moves the admin ETag, not the buyer's.
    const adminUrl = `/v1/admin/orders/${created.body.id}`;
    const staff = await call('GET', adminUrl, { token: admin });
    assert.ok(staff.body.timeline.filter((t: any) => t.actorType === 'ADMIN').every((t: any) => t.actorId !== ''));
    assert.deepEqual(staff.body.notes, []);
    const note = await call('POST', `${adminUrl}/notes`, {
      token: admin,
      key: true,
      body: { body: 'called the buyer' },
    });
    assert.equal(note.status, 201);
    const noted = await call('GET', adminUrl, { token: admin, etag: staff.etag });
    assert.equal(noted.status, 200);
    assert.deepEqual(
      noted.body.notes.map((n: any) => n.body),
      ['called the buyer'],
    );
    assert.equal((await call('GET', url, { token, etag: whole.etag })).status, 304);

    // gRPC GetOrder: the same parts (services see who acted).
    const md = new Metadata();
    md.set('x-service-token', ctx.config.grpc.serviceTokens[0]!.token);
    const got = await new Promise<GetOrderResponse>((resolve, reject) =>
      grpc.getOrder({ orderId: created.body.id, userId: String(buyer) }, md, (err: ServiceError | null, res) =>
        err ? reject(err) : resolve(res),
      ),
    );
    const o = got.order!;
    assert.equal(o.source, 'APP');
    assert.deepEqual(
      o.payments.map((p) => [p.id, p.status, p.amount, p.kept]),
      [
        [first.body.id, 'FAILED', '3000', false],
        [second.body.id, 'SUCCEEDED', '3000', true],
      ],
    );
    assert.deepEqual(
      o.refunds.map((r) => [r.paymentId, r.amount]),
      [[second.body.id, '3000']],
    );
    assert.deepEqual(
      o.shipments.map((s) => [s.carrier, s.trackingNo]),
      [['SF', `SFW${created.body.id}`]],
    );
    assert.deepEqual(o.timeline[0] && [o.timeline[0].from, o.timeline[0].to], [
      OrderStatus.UNSPECIFIED,
      OrderStatus.PENDING_PAYMENT,
    ]);
    assert.deepEqual(
      o.timeline.map((t) => t.version),
      staff.body.timeline.map((t: any) => t.version),
    );
  });

  it('a reader that loaded the order just before a payment attempt opened cannot put it back in the cache', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 700, available: 10 }]);
    const buyer = ++nextUser;
    const token = await tokenFor(buyer);
    const created = await call('POST', '/v1/orders', {
      token,
      key: true,
      body: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    const id = BigInt(created.body.id);
    // The reader's load: the order as it was.
    const row = (await getOrder(ctx.db, id))!;
    const before: OrderDetail = {
      order: row,
      items: await getItems(ctx.db, id),
      extras: await loadOrderExtras(ctx.db, id),
    };
    assert.deepEqual(before.extras.payments, []);
    // The change commits and invalidates; then the reader's fill arrives.
    await startPayment(ctx, { orderId: id, userId: buyer });
    const served = await orderDetailCache(ctx).get(String(id), async () => before);
    assert.equal(served?.extras.payments.length, 0, 'the reader itself gets what it loaded');
    // The stale fill was refused: the next read loads the order with its attempt.
    const detail = await getOrderDetail(ctx, { orderId: id, userId: buyer });
    assert.equal(detail.extras.payments.length, 1);
    assert.equal(detail.order.sideRev, row.sideRev + 1);
    const read = await call('GET', `/v1/orders/${id}`, { token });
    assert.equal(read.body.payments.length, 1);
  });
});
