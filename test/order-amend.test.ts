import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { auditInvariants } from '../internal/audit/index.js';
import { signDevToken } from '../internal/auth/index.js';
import type { ConsumerLoop } from '../internal/mq/index.js';
import { adjustOrderPrice, createOrder, getOrder } from '../internal/order/index.js';
import { applyPaymentResult, startPayment } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { startSubscription } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, payOrder } from './helpers/orders.js';
import { waitFor } from './helpers/wait.js';

// Changes that keep an order's status: the receiver's address before shipping, the price before payment.
// Each is a new version with a history line and its event, like a transition; a payment attempt for the
// old total is closed, and one paid anyway is refunded, never kept.
describe('address change and price adjustment (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let closer: ConsumerLoop;
  let sku: bigint;
  const buyer = BigInt(Date.now()) * 1000n + 800_001n;
  const made: bigint[] = [];

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
    closer = await startSubscription(ctx, 'qianfan-order-payment-close');
    [sku] = (await makeSkus(ctx, [{ price: 1000, available: 100 }])) as [bigint];
  });
  after(async () => {
    await closer?.stop();
    await app?.close();
    await ctx?.close();
  });

  const newOrder = async () => {
    const id = (await createOrder(ctx, { userId: buyer, items: [{ skuId: sku, quantity: 2 }], address })).order.id;
    made.push(id);
    return id;
  };
  const call = async (roles: string[], method: 'GET' | 'POST', url: string, body?: object, headers = {}) => {
    const token = await signDevToken(
      ctx.config.auth,
      { userId: roles.includes('user') ? String(buyer) : '77', roles },
      600,
    );
    const res = await app.inject({
      method,
      url,
      headers: {
        authorization: `Bearer ${token}`,
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
        ...headers,
      },
      ...(body ? { payload: body } : {}),
    });
    return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Record<string, any>, headers: res.headers };
  };
  const history = async (id: bigint) =>
    (
      (await ctx.pool.query(
        'SELECT from_status, to_status, version, actor_type, reason FROM order_status_log WHERE order_id = ? ORDER BY version',
        [id],
      )) as unknown as [Array<Record<string, unknown>>]
    )[0];
  const events = async (id: bigint) =>
    (
      (await ctx.pool.query('SELECT event_type FROM mq_tx_log WHERE message_key = ? ORDER BY id', [
        String(id),
      ])) as unknown as [Array<{ event_type: string }>]
    )[0].map((r) => r.event_type);

  it('the address changes while PAID: new version, history line, event, fresh cached read; refused once shipped', async () => {
    const id = await newOrder();
    await payOrder(ctx, id, buyer);
    // The buyer's cached read and its ETag, before the change.
    const before = await call(['user'], 'GET', `/v1/orders/${id}`);
    assert.equal(before.status, 200);
    const moved = { ...address, name: '韩梅梅', detail: '2 Wensan Rd' };
    const r = await call(['admin'], 'POST', `/v1/admin/orders/${id}/address`, {
      address: moved,
      reason: 'buyer called: moved',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.status, 'PAID');
    assert.equal(r.body.address.name, '韩梅梅');
    const mine = await call(['user'], 'GET', `/v1/orders/${id}`, undefined, { 'if-none-match': before.headers.etag });
    assert.equal(mine.status, 200, 'the old ETag no longer matches');
    assert.equal(mine.body.address.detail, '2 Wensan Rd');
    const line = await history(id);
    assert.deepEqual(line.at(-1), {
      from_status: 'PAID',
      to_status: 'PAID',
      version: 2,
      actor_type: 'ADMIN',
      reason: 'address changed (buyer called: moved)',
    });
    assert.deepEqual(await events(id), ['order.created', 'order.paid', 'order.address_changed']);
    // The same change again changes nothing (a retry of a change that committed).
    const again = await call(['admin'], 'POST', `/v1/admin/orders/${id}/address`, { address: moved, reason: 'again' });
    assert.equal(again.body.version, 2);
    // Bad input and the wrong state.
    const bad = await call(['admin'], 'POST', `/v1/admin/orders/${id}/address`, {
      address: { ...moved, phone: 'call me' },
      reason: 'x',
    });
    assert.equal(bad.status, 400);
    assert.equal(
      (await call(['orders:read'], 'POST', `/v1/admin/orders/${id}/address`, { address: moved, reason: 'x' })).status,
      403,
    );
    await call(['admin'], 'POST', `/v1/admin/orders/${id}/ship`, { carrier: 'SF', trackingNo: `SF${Date.now()}` });
    const shipped = await call(['admin'], 'POST', `/v1/admin/orders/${id}/address`, { address, reason: 'too late' });
    assert.equal(shipped.status, 409);
    assert.equal(shipped.body.code, 'ORDER_STATE_CONFLICT');
    assert.equal(shipped.body.details.currentStatus, 'SHIPPED');
  });

  it('the price of an unpaid order is adjusted; the attempt for the old total is closed, the new total is paid', async () => {
    const id = await newOrder();
    const old = (await startPayment(ctx, { orderId: id, userId: buyer })).payment;
    assert.equal(old.amount, 2000);
    const r = await call(['admin'], 'POST', `/v1/admin/orders/${id}/price`, {
      shippingFee: 800,
      discountAmount: 300,
      reason: 'remote area shipping, goodwill discount',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      [r.body.totalAmount, r.body.shippingFee, r.body.discountAmount, r.body.status],
      [2500, 800, 300, 'PENDING_PAYMENT'],
    );
    assert.deepEqual(await events(id), ['order.created', 'order.price_adjusted']);
    assert.match(String((await history(id)).at(-1)?.reason), /^price adjusted: total 2000 -> 2500 \(remote area/);
    // The payment-close consumer closes the old attempt at its provider.
    await waitFor('the old attempt closed', 20_000, async () => {
      const [rows] = (await ctx.pool.query('SELECT status FROM payments WHERE id = ?', [old.id])) as unknown as [
        Array<{ status: string }>,
      ];
      return rows[0]?.status === 'EXPIRED';
    });
    const fresh = (await startPayment(ctx, { orderId: id, userId: buyer })).payment;
    assert.equal(fresh.amount, 2500);
    await applyPaymentResult(ctx, {
      paymentId: fresh.id,
      status: 'SUCCEEDED',
      amount: 2500,
      currency: 'CNY',
      providerTxnId: `t-${fresh.id}`,
    });
    const paid = await getOrder(ctx.db, id);
    assert.deepEqual([paid?.status, paid?.paidAmount], ['PAID', 2500]);
    // Refused: after payment, a total under 1 fen, no change given, a reason missing.
    const after = await call(['admin'], 'POST', `/v1/admin/orders/${id}/price`, { discountAmount: 1, reason: 'late' });
    assert.deepEqual([after.status, after.body.code], [409, 'ORDER_STATE_CONFLICT']);
    const other = await newOrder();
    const zero = await call(['admin'], 'POST', `/v1/admin/orders/${other}/price`, {
      discountAmount: 2000,
      reason: 'free',
    });
    assert.deepEqual([zero.status, zero.body.code], [400, 'VALIDATION_FAILED']);
    assert.equal((await call(['admin'], 'POST', `/v1/admin/orders/${other}/price`, { reason: 'nothing' })).status, 400);
    assert.equal((await call(['admin'], 'POST', `/v1/admin/orders/${other}/price`, { discountAmount: 5 })).status, 400);
    assert.equal((await getOrder(ctx.db, other))?.version, 0, 'nothing written by the refusals');
  });

  it('an attempt for the old total paid before it was closed is refunded in full, never kept', async () => {
    const id = await newOrder();
    const old = (await startPayment(ctx, { orderId: id, userId: buyer })).payment;
    await adjustOrderPrice(ctx, {
      orderId: id,
      discountAmount: 500,
      reason: 'coupon',
      actor: { type: 'ADMIN', id: 't' },
    });
    const outcome = await applyPaymentResult(ctx, {
      paymentId: old.id,
      status: 'SUCCEEDED',
      amount: 2000,
      currency: 'CNY',
      providerTxnId: `t-${old.id}`,
    });
    assert.equal(outcome, 'REFUNDING_ORPHAN');
    const o = await getOrder(ctx.db, id);
    assert.deepEqual([o?.status, o?.paidAmount, o?.totalAmount], ['PENDING_PAYMENT', 0, 1500]);
    const [refunds] = (await ctx.pool.query('SELECT kind, amount FROM refunds WHERE order_id = ?', [
      id,
    ])) as unknown as [Array<{ kind: string; amount: number }>];
    assert.deepEqual(
      refunds.map((r) => [r.kind, Number(r.amount)]),
      [['AUTO_UNKEPT_PAYMENT', 2000]],
    );
  });

  it("the audit finds nothing wrong in the amended orders' histories and events", async () => {
    const first = made[0] as bigint;
    const report = await auditInvariants(ctx, { afterOrderId: String(first - 1n), maxOrders: 50, settleMs: 0 });
    const ours = new Set(made.map(String));
    const mine = report.findings.filter((f) => f.ids.some((i) => ours.has(i.split('/')[0] as string)));
    // The last order's old attempt is captured and its refund still PENDING at the sandbox: not a finding
    // of the amendments' checks (transitions and events), which are what this test is about.
    const lines = mine.filter((f) => f.check === 'transitions form one line' || f.check === 'one event per transition');
    assert.deepEqual(lines, []);
  });
});
