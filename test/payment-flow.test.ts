import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { requestAfterSale } from '../internal/aftersale/index.js';
import { confirmReceipt, markDelivered, shipOrder } from '../internal/delivery/index.js';
import { AppError } from '../internal/errorx/index.js';
import { refunds } from '../internal/model/index.js';
import { cancelOrder, createOrder, getItems, getOrderDetail } from '../internal/order/index.js';
import {
  applyPaymentResult,
  completeRefund,
  ingestPaymentWebhook,
  paymentsOfOrder,
  refundsOfOrder,
  requestRefund,
  sandboxWebhook,
  startPayment,
} from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, stockOf } from './helpers/orders.js';

const isCode = (code: string) => (err: unknown) => err instanceof AppError && err.code === code;
let nextUser = BigInt(Date.now()) * 1000n + 500_000n;
const newUser = () => ++nextUser;
const admin = { type: 'ADMIN' as const, id: '9001' };
const system = { type: 'SYSTEM' as const, id: 'timeout' };

describe('payment, delivery and refunds (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
  });
  after(async () => ctx?.close());

  async function paidOrder(price = 1000, qty = 2) {
    const [sku] = await makeSkus(ctx, [{ price, available: 10 }]);
    const userId = newUser();
    const { order } = await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: qty }], address });
    const { payment } = await startPayment(ctx, { orderId: order.id, userId });
    const outcome = await applyPaymentResult(ctx, {
      paymentId: payment.id,
      status: 'SUCCEEDED',
      amount: payment.amount,
      currency: 'CNY',
      providerTxnId: payment.providerTxnId!,
    });
    assert.equal(outcome, 'PAID');
    return { sku: sku!, userId, order, payment };
  }

  async function refundOf(orderId: bigint) {
    const [r] = await refundsOfOrder(ctx.db, orderId);
    assert.ok(r, 'no refund recorded');
    return r;
  }

  it('pays, ships, delivers, completes; duplicates are no-ops; stock ends sold', async () => {
    const { sku, userId, order, payment } = await paidOrder();
    assert.equal(
      await applyPaymentResult(ctx, {
        paymentId: payment.id,
        status: 'SUCCEEDED',
        amount: 2000,
        currency: 'CNY',
        providerTxnId: 'x',
      }),
      'DUPLICATE',
    );
    assert.deepEqual(await stockOf(ctx, sku), { available: 8, reserved: 0, sold: 2 });
    await assert.rejects(confirmReceipt(ctx, { orderId: order.id, userId, actor: admin }), (e: unknown) => {
      return isCode('ORDER_STATE_CONFLICT')(e) && (e as AppError).details?.currentStatus === 'PAID';
    });
    await shipOrder(ctx, { orderId: order.id, carrier: 'SF', trackingNo: `SF${order.id}`, actor: admin });
    await markDelivered(ctx, { orderId: order.id, actor: admin });
    const done = await confirmReceipt(ctx, { orderId: order.id, userId, actor: { type: 'USER', id: String(userId) } });
    assert.equal(done.order.status, 'COMPLETED');
    assert.equal(done.order.version, 4);
    const { order: o } = await getOrderDetail(ctx, { orderId: order.id });
    assert.equal(o.paidAmount, 2000);
    assert.ok(o.paidAt && o.shippedAt && o.deliveredAt && o.completedAt);
  });

  it('a payment attempt is refused unless the order is payable, and amounts must match', async () => {
    const { order, userId } = await paidOrder();
    await assert.rejects(startPayment(ctx, { orderId: order.id, userId }), isCode('ORDER_NOT_PAYABLE'));
    await assert.rejects(startPayment(ctx, { orderId: order.id, userId: newUser() }), isCode('ORDER_NOT_FOUND'));
    const [sku] = await makeSkus(ctx, [{ price: 500, available: 1 }]);
    const u = newUser();
    const { order: o2 } = await createOrder(ctx, { userId: u, items: [{ skuId: sku!, quantity: 1 }], address });
    const { payment } = await startPayment(ctx, { orderId: o2.id, userId: u });
    await assert.rejects(
      applyPaymentResult(ctx, {
        paymentId: payment.id,
        status: 'SUCCEEDED',
        amount: 499,
        currency: 'CNY',
        providerTxnId: 'x',
      }),
      isCode('PAYMENT_AMOUNT_MISMATCH'),
    );
    const [p] = await paymentsOfOrder(ctx.db, o2.id);
    assert.equal(p!.status, 'PENDING');
    assert.equal(
      await applyPaymentResult(ctx, {
        paymentId: payment.id,
        status: 'FAILED',
        amount: 500,
        currency: 'CNY',
        providerTxnId: 'x',
        failureReason: 'card declined',
      }),
      'FAILED',
    );
    assert.equal((await getOrderDetail(ctx, { orderId: o2.id })).order.status, 'PENDING_PAYMENT');
  });

  it('cancel after payment: REFUNDING returns the goods to stock, the provider confirmation makes it REFUNDED', async () => {
    const { sku, userId, order } = await paidOrder(1500, 3);
    const res = await requestRefund(ctx, {
      orderId: order.id,
      userId,
      actor: { type: 'USER', id: String(userId) },
      reason: 'changed my mind',
    });
    assert.equal(res.order.status, 'REFUNDING');
    assert.deepEqual(await stockOf(ctx, sku), { available: 10, reserved: 0, sold: 0 });
    const refund = await refundOf(order.id);
    assert.equal(refund.kind, 'CANCEL_AFTER_PAYMENT');
    assert.ok(refund.providerRefundId?.startsWith('sbxr_'));
    assert.equal(await completeRefund(ctx, { refundId: refund.id, amount: 4500 }), 'REFUNDED');
    assert.equal(await completeRefund(ctx, { refundId: refund.id, amount: 4500 }), 'DUPLICATE');
    const { order: o } = await getOrderDetail(ctx, { orderId: order.id });
    assert.equal(o.status, 'REFUNDED');
    assert.equal(o.refundedAmount, o.paidAmount);
  });

  it('once goods have shipped, the whole-order refund is refused: money goes back by after-sale, within the window after delivery', async () => {
    const { userId, order } = await paidOrder();
    await shipOrder(ctx, { orderId: order.id, carrier: 'YTO', trackingNo: `YT${order.id}`, actor: admin });
    const user = { type: 'USER' as const, id: String(userId) };
    await assert.rejects(
      requestRefund(ctx, { orderId: order.id, userId, actor: user, reason: 'on its way' }),
      (err: unknown) =>
        err instanceof AppError && err.code === 'ORDER_STATE_CONFLICT' && /after-sale/.test(err.message),
    );
    await markDelivered(ctx, { orderId: order.id, actor: admin, at: new Date(Date.now() - 30 * 86_400_000) });
    await assert.rejects(
      requestRefund(ctx, { orderId: order.id, userId, actor: user, reason: 'broken' }),
      isCode('ORDER_STATE_CONFLICT'),
    );
    const [line] = await getItems(ctx.db, order.id);
    await assert.rejects(
      requestAfterSale(ctx, {
        orderId: order.id,
        userId,
        kind: 'REFUND_ONLY',
        reason: 'late',
        lines: [{ orderItemId: line!.id, quantity: 1 }],
      }),
      isCode('REFUND_WINDOW_CLOSED'),
    );
    assert.equal((await refundsOfOrder(ctx.db, order.id)).length, 0, 'nothing recorded');
  });

  it('a success that lands on a cancelled order is kept on record and refunded automatically', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 800, available: 5 }]);
    const userId = newUser();
    const { order } = await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address });
    const { payment } = await startPayment(ctx, { orderId: order.id, userId });
    await cancelOrder(ctx, { orderId: order.id, reason: 'USER', actor: { type: 'USER', id: '' }, userId });
    const outcome = await applyPaymentResult(ctx, {
      paymentId: payment.id,
      status: 'SUCCEEDED',
      amount: 800,
      currency: 'CNY',
      providerTxnId: 'p1',
    });
    assert.equal(outcome, 'REFUNDING_ORPHAN');
    const refund = await refundOf(order.id);
    assert.equal(refund.kind, 'AUTO_UNKEPT_PAYMENT');
    assert.equal(refund.amount, 800);
    await completeRefund(ctx, { refundId: refund.id, amount: 800 });
    const [p] = await paymentsOfOrder(ctx.db, order.id);
    assert.equal(p!.status, 'REFUNDED');
    assert.equal((await getOrderDetail(ctx, { orderId: order.id })).order.status, 'CANCELLED');
    assert.deepEqual(await stockOf(ctx, sku!), { available: 5, reserved: 0, sold: 0 });
  });

  it('two attempts that both succeed: one is kept, the other refunded', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 300, available: 5 }]);
    const userId = newUser();
    const { order } = await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address });
    const a = (await startPayment(ctx, { orderId: order.id, userId })).payment;
    const b = (await startPayment(ctx, { orderId: order.id, userId })).payment;
    const outcomes = await Promise.all(
      [a, b].map((p) =>
        applyPaymentResult(ctx, {
          paymentId: p.id,
          status: 'SUCCEEDED',
          amount: 300,
          currency: 'CNY',
          providerTxnId: `t${p.id}`,
        }),
      ),
    );
    assert.deepEqual(outcomes.sort(), ['PAID', 'REFUNDING_ORPHAN']);
    const ps = await paymentsOfOrder(ctx.db, order.id);
    assert.equal(ps.filter((p) => p.succeededOrderId !== null).length, 1);
  });

  it('payment results racing the timeout: every order ends PAID, or CANCELLED with a refund', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 40 }]);
    const later = new Date(Date.now() + 2 * 3600_000);
    const runs = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const userId = newUser();
        const { order } = await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address });
        const { payment } = await startPayment(ctx, { orderId: order.id, userId });
        const settled = await Promise.allSettled([
          applyPaymentResult(ctx, {
            paymentId: payment.id,
            status: 'SUCCEEDED',
            amount: 100,
            currency: 'CNY',
            providerTxnId: `r${payment.id}`,
          }),
          cancelOrder(ctx, { orderId: order.id, reason: 'TIMEOUT', actor: system, now: later }),
        ]);
        const [pay, cancel] = settled;
        assert.equal(pay.status, 'fulfilled', `payment result failed: ${pay.status === 'rejected' ? pay.reason : ''}`);
        if (cancel.status === 'rejected')
          assert.ok(isCode('ORDER_STATE_CONFLICT')(cancel.reason), String(cancel.reason));
        return order.id;
      }),
    );
    let paid = 0;
    for (const id of runs) {
      const { order } = await getOrderDetail(ctx, { orderId: id });
      const rs = await ctx.db.select().from(refunds).where(eq(refunds.orderId, id));
      if (order.status === 'PAID') {
        paid++;
        assert.equal(rs.length, 0);
      } else {
        assert.equal(order.status, 'CANCELLED');
        assert.equal(rs.length, 1, `cancelled order ${id} without its refund`);
      }
    }
    const stock = await stockOf(ctx, sku!);
    assert.equal(stock.sold, paid);
    assert.equal(stock.available + stock.reserved + stock.sold, 40);
  });

  it('webhooks: forged, stale, malformed and replayed requests are refused before anything is stored', async () => {
    const secret = ctx.config.payment.webhookSecret;
    const n = {
      type: 'payment.succeeded' as const,
      paymentId: '1',
      orderId: '2',
      providerTxnId: 't',
      amount: 100,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    };
    const good = sandboxWebhook(secret, n);
    const call = (w: ReturnType<typeof sandboxWebhook>, body = w.body) =>
      ingestPaymentWebhook(ctx, {
        provider: 'sandbox',
        body,
        timestamp: w.headers['x-qf-timestamp'],
        signature: w.headers['x-qf-signature'],
      });
    await assert.rejects(call(sandboxWebhook('wrong-secret-wrong-secret', n)), isCode('INVALID_SIGNATURE'));
    await assert.rejects(call(good, good.body.replace('"amount":100', '"amount":1')), isCode('INVALID_SIGNATURE'));
    await assert.rejects(call(sandboxWebhook(secret, n, Date.now() - 3600_000)), isCode('INVALID_SIGNATURE'));
    await assert.rejects(call(sandboxWebhook(secret, { ...n, amount: -5 })), isCode('VALIDATION_FAILED'));
    const accepted = await call(good);
    assert.equal(accepted.type, 'payment.succeeded');
    await assert.rejects(call(good), isCode('WEBHOOK_REPLAYED'));
  });
});
