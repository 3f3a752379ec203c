import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, inArray, sql } from 'drizzle-orm';
import { subscriptions } from '../consumer/handlers.js';
import { cacheAside } from '../internal/cache/index.js';
import { redriveDeadLetters, replayDeadLetters } from '../internal/deadletter/index.js';
import { AppError } from '../internal/errorx/index.js';
import { runIdempotent } from '../internal/idempotency/index.js';
import { deadLetters, mqTxLog, orders, payments, skus } from '../internal/model/index.js';
import {
  classifyFailure,
  consumerGroups,
  newEnvelope,
  RetryLaterError,
  TxResolution,
  topics,
} from '../internal/mq/index.js';
import { cancelOrder, closeExpiredOrders, createOrder, getOrderDetail } from '../internal/order/index.js';
import {
  applyPaymentResult,
  bounded,
  completeRefund,
  failRefund,
  ingestPaymentWebhook,
  PAYMENT_NOTIFICATION_EVENT,
  paymentsOfOrder,
  reconcilePayments,
  recordSandboxOutcome,
  refundsOfOrder,
  requestRefund,
  resendRefunds,
  retryRefund,
  sandboxWebhook,
  startPayment,
} from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { checkBackProducer } from './helpers/check-back.js';
import { testConfig, testEnv } from './helpers/config.js';
import { startPaymentConsumer } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, ordersOfUser, stockOf } from './helpers/orders.js';
import { sleep, waitFor } from './helpers/wait.js';

const isCode = (code: string) => (err: unknown) => err instanceof AppError && err.code === code;
let nextUser = BigInt(Date.now()) * 1000n + 800_000n;
const newUser = () => ++nextUser;
const admin = { type: 'ADMIN' as const, id: '9001' };

describe('money and message path edge cases (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
  });
  after(async () => ctx?.close());

  async function pendingPayment(price = 1200) {
    const [sku] = await makeSkus(ctx, [{ price, available: 10 }]);
    const userId = newUser();
    const { order } = await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address });
    const { payment } = await startPayment(ctx, { orderId: order.id, userId });
    return { sku: sku!, userId, order, payment };
  }

  async function paidOrder(price = 1200) {
    const p = await pendingPayment(price);
    const outcome = await applyPaymentResult(ctx, {
      paymentId: p.payment.id,
      status: 'SUCCEEDED',
      amount: p.payment.amount,
      currency: 'CNY',
      providerTxnId: p.payment.providerTxnId!,
    });
    assert.equal(outcome, 'PAID');
    return p;
  }

  const statusOf = async (orderId: bigint) => (await getOrderDetail(ctx, { orderId })).order.status;

  it('poison payment notifications are parked at once and never hold back a real payment; a fixed one replays', async () => {
    const run = randomUUID();
    const notice = (orderId: string, paymentId: string, amount = 100) => ({
      type: 'payment.succeeded',
      paymentId,
      orderId,
      providerTxnId: `x-${run}`,
      amount,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    });
    // An unknown payment whose order exists: parked, then fixed by an operator and replayed.
    const fixable = await pendingPayment(700);
    const fixableId = ctx.ids.next();
    const poison: Array<{ key: string; data: unknown }> = [
      { key: fixable.order.id.toString(), data: notice(fixable.order.id.toString(), fixableId.toString(), 700) },
    ];
    for (let i = 0; i < 20; i++) {
      const orderId = ctx.ids.next().toString();
      poison.push({ key: orderId, data: notice(orderId, ctx.ids.next().toString()) });
    }
    for (let i = 0; i < 5; i++) {
      const orderId = ctx.ids.next().toString();
      poison.push({ key: orderId, data: { ...notice(orderId, 'not-an-id'), amount: '1e3' } });
    }
    const mq = ctx.mq!;
    await Promise.all(
      poison.map((p) =>
        mq.send({
          topic: topics.paymentNotify.name,
          envelope: newEnvelope(PAYMENT_NOTIFICATION_EVENT, p.data),
          key: p.key,
          messageGroup: p.key,
        }),
      ),
    );
    const loop = await startPaymentConsumer(ctx);
    try {
      // A real payment sent after the poison ones.
      const real = await pendingPayment(900);
      const w = sandboxWebhook(
        ctx.config.payment.webhookSecret,
        notice(real.order.id.toString(), real.payment.id.toString(), 900) as never,
      );
      const sentAt = Date.now();
      await ingestPaymentWebhook(ctx, {
        provider: 'sandbox',
        body: w.body,
        timestamp: w.headers['x-qf-timestamp'],
        signature: w.headers['x-qf-signature'],
      });
      await waitFor(
        'the real payment to be applied',
        5000,
        async () => (await statusOf(real.order.id)) === 'PAID',
        100,
      );
      const paidMs = Date.now() - sentAt;
      assert.ok(paidMs < 5000, `a real payment took ${paidMs} ms behind poison messages`);

      const keys = poison.map((p) => p.key);
      const parked = await waitFor('every poison message to be parked', 20_000, async () => {
        const rows = await ctx.db.select().from(deadLetters).where(inArray(deadLetters.messageKey, keys));
        return rows.length === poison.length ? rows : undefined;
      });
      assert.ok(parked.every((r) => r.status === 'PARKED' && r.source === 'PARKED' && r.topic === 'payment_notify'));
      assert.equal(parked.filter((r) => r.errorCode === 'PAYMENT_NOT_FOUND').length, 21);
      assert.equal(parked.filter((r) => r.errorCode === 'VALIDATION_FAILED').length, 5);
      assert.ok(
        parked.every((r) => r.attempts === 1),
        'a permanent failure was retried',
      );

      // The operator creates the missing payment record and replays the letter: it is applied and resolved.
      await ctx.db.insert(payments).values({
        id: fixableId,
        orderId: fixable.order.id,
        provider: 'sandbox',
        providerTxnId: `x-${run}`,
        amount: 700,
        currency: 'CNY',
        status: 'PENDING',
      });
      const letter = parked.find((r) => r.messageKey === fixable.order.id.toString())!;
      const dry = await replayDeadLetters(ctx, { ids: [letter.id], dryRun: true });
      assert.deepEqual(dry.replayed, [String(letter.id)]);
      const replay = await replayDeadLetters(ctx, { ids: [letter.id, 1n] });
      assert.deepEqual(replay.replayed, [String(letter.id)]);
      assert.deepEqual(replay.skipped, [{ id: '1', reason: 'not found' }]);
      await waitFor('the replayed letter to be resolved', 15_000, async () => {
        const [row] = await ctx.db.select().from(deadLetters).where(eq(deadLetters.id, letter.id));
        return row?.status === 'RESOLVED';
      });
      assert.equal(await statusOf(fixable.order.id), 'PAID');
      const again = await replayDeadLetters(ctx, { ids: [letter.id] });
      assert.deepEqual(again.skipped, [{ id: String(letter.id), reason: 'already resolved' }]);
    } finally {
      await loop.stop();
    }
  });

  it('a delivery update before shipping is retried later; failures are classified', async () => {
    const { order } = await paidOrder();
    const sub = subscriptions.find((s) => s.group.name === 'qianfan-order-delivery')!;
    const meta = {} as never;
    const env = newEnvelope('delivery.delivered', { orderId: order.id.toString() });
    const err = await sub
      .handler(ctx)(env, meta)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof RetryLaterError, 'an early delivery update was dropped');
    assert.equal(classifyFailure(err), 'transient');
    await assert.rejects(sub.handler(ctx)(newEnvelope('delivery.delivered', { orderId: 'x' }), meta), (e: unknown) => {
      return isCode('VALIDATION_FAILED')(e) && classifyFailure(e) === 'permanent';
    });
    assert.equal(classifyFailure(new Error('connect ECONNREFUSED')), 'transient');
    assert.equal(classifyFailure(new AppError('CONCURRENT_MODIFICATION', 'x')), 'transient');
    assert.equal(classifyFailure(new AppError('PAYMENT_AMOUNT_MISMATCH', 'x')), 'permanent');
  });

  it('a local transaction held past its bound never commits: no order, no event, stock untouched', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 300, available: 5 }]);
    const userId = newUser();
    const bound = ctx.config.rocketmq.localTxMaxMs;
    const conn = await ctx.pool.getConnection();
    try {
      await conn.query('START TRANSACTION');
      await conn.query('SELECT id FROM skus WHERE id = ? FOR UPDATE', [String(sku)]);
      const attempt = createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address });
      await sleep(bound + 1000); // the order's UPDATE waits on this row lock past the bound
      await conn.query('COMMIT');
      await assert.rejects(attempt, isCode('DEPENDENCY_UNAVAILABLE'));
    } finally {
      conn.release();
    }
    assert.equal((await ordersOfUser(ctx, userId)).length, 0);
    assert.deepEqual(await stockOf(ctx, sku!), { available: 5, reserved: 0, sold: 0 });
    const logs = await ctx.db
      .select()
      .from(mqTxLog)
      .where(sql`JSON_EXTRACT(${mqTxLog.payload}, '$.userId') = ${String(userId)}`);
    assert.equal(logs.length, 0);
  });

  it('a webhook whose enqueue failed is accepted when the provider sends it again', async () => {
    const { order, payment } = await pendingPayment(800);
    const w = sandboxWebhook(ctx.config.payment.webhookSecret, {
      type: 'payment.succeeded',
      paymentId: payment.id.toString(),
      orderId: order.id.toString(),
      providerTxnId: payment.providerTxnId!,
      amount: 800,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    });
    const input = {
      provider: 'sandbox',
      body: w.body,
      timestamp: w.headers['x-qf-timestamp'],
      signature: w.headers['x-qf-signature'],
    };
    const broken = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
    try {
      await broken.mq!.close(); // the broker is unreachable for this request
      await assert.rejects(ingestPaymentWebhook(broken, input), isCode('DEPENDENCY_UNAVAILABLE'));
    } finally {
      await broken.close();
    }
    const n = await ingestPaymentWebhook(ctx, input);
    assert.equal(n.type, 'payment.succeeded');
    await assert.rejects(ingestPaymentWebhook(ctx, input), isCode('WEBHOOK_REPLAYED'));
  });

  it('a success after a recorded failure is kept when the order can take it, refunded when it cannot', async () => {
    const result = (p: { id: bigint; amount: number; providerTxnId: string | null }, status: 'SUCCEEDED' | 'FAILED') =>
      applyPaymentResult(ctx, {
        paymentId: p.id,
        status,
        amount: p.amount,
        currency: 'CNY',
        providerTxnId: p.providerTxnId!,
      });
    const a = await pendingPayment(500);
    assert.equal(await result(a.payment, 'FAILED'), 'FAILED');
    assert.equal(await result(a.payment, 'SUCCEEDED'), 'PAID');
    assert.equal(await statusOf(a.order.id), 'PAID');

    const b = await pendingPayment(600);
    assert.equal(await result(b.payment, 'FAILED'), 'FAILED');
    await cancelOrder(ctx, { orderId: b.order.id, reason: 'USER', actor: admin });
    assert.equal(await result(b.payment, 'SUCCEEDED'), 'REFUNDING_ORPHAN');
    const [refund] = await refundsOfOrder(ctx.db, b.order.id);
    assert.equal(refund?.kind, 'AUTO_UNKEPT_PAYMENT');
    assert.equal(refund?.amount, 600);
    assert.ok(refund?.providerRefundId, 'the refund was not sent to the provider');
    assert.equal(await result(b.payment, 'SUCCEEDED'), 'DUPLICATE');
  });

  it('a payment result whose retries ran out in an outage is re-driven by the job once dependencies answer; refused refunds are gauged by age', async () => {
    const { order, payment } = await pendingPayment(1300);
    const id = ctx.ids.next();
    const quiet = new Date(Date.now() - 10 * 60_000);
    const envelope = newEnvelope(PAYMENT_NOTIFICATION_EVENT, {
      type: 'payment.succeeded',
      paymentId: String(payment.id),
      orderId: String(order.id),
      providerTxnId: payment.providerTxnId!,
      amount: 1300,
      currency: 'CNY',
      occurredAt: quiet.toISOString(),
    });
    await ctx.db.insert(deadLetters).values({
      id,
      source: 'DLQ',
      messageId: `m-${id}`,
      eventId: envelope.eventId,
      topic: topics.paymentNotify.name,
      consumerGroup: consumerGroups.payment.name,
      messageKey: String(order.id),
      messageGroup: String(order.id),
      body: JSON.stringify(envelope),
      errorCode: 'RETRIES_EXHAUSTED',
      status: 'PARKED',
      firstSeenAt: quiet,
      lastSeenAt: quiet,
    });
    const loop = await startPaymentConsumer(ctx);
    try {
      const r = await redriveDeadLetters(ctx, { limit: 1000 });
      assert.ok(r.redriven >= 1, JSON.stringify(r));
      await waitFor('the re-driven payment to be applied', 90_000, async () => (await statusOf(order.id)) === 'PAID');
      await waitFor('the letter to be resolved', 10_000, async () => {
        const [row] = await ctx.db.select().from(deadLetters).where(eq(deadLetters.id, id));
        return row?.status === 'RESOLVED';
      });
    } finally {
      await loop.stop();
    }
    // Letters that are not RETRIES_EXHAUSTED (a permanent refusal) are left to an operator.
    const metrics = await ctx.metrics.getSingleMetricAsString('qianfan_dead_letters_open');
    assert.match(metrics, /topic="payment_notify"/);

    // A refund the provider refused shows in the gauges with its age.
    const { order: refused } = await paidOrder(900);
    await requestRefund(ctx, { orderId: refused.id, actor: admin, reason: 'changed mind' });
    const [refund] = await refundsOfOrder(ctx.db, refused.id);
    await failRefund(ctx, { refundId: refund!.id, amount: 900, reason: 'account closed' });
    const later = new Date(Date.now() + 2 * 3600_000);
    await resendRefunds(ctx, { now: later });
    const failed = await ctx.metrics.getSingleMetricAsString('qianfan_refunds_failed_oldest_seconds');
    const age = Number(/qianfan_refunds_failed_oldest_seconds\{of="refund"[^}]*\} (\d+)/.exec(failed)?.[1]);
    assert.ok(age >= 7000, failed);
    assert.match(await ctx.metrics.getSingleMetricAsString('qianfan_refunds_failed'), /of="order"[^}]*\} [1-9]/);
  });

  it('refund.failed: REFUND_FAILED, retried by an operator, completed; stock goes back exactly once', async () => {
    const { sku, order } = await paidOrder(2000);
    await requestRefund(ctx, { orderId: order.id, actor: admin, reason: 'changed mind' });
    assert.deepEqual(await stockOf(ctx, sku), { available: 10, reserved: 0, sold: 0 });
    const [refund] = await refundsOfOrder(ctx.db, order.id);
    assert.equal(
      await failRefund(ctx, { refundId: refund!.id, amount: 2000, reason: 'account closed' }),
      'REFUND_FAILED',
    );
    assert.equal(await failRefund(ctx, { refundId: refund!.id, amount: 2000, reason: 'again' }), 'DUPLICATE');
    assert.equal(await statusOf(order.id), 'REFUND_FAILED');
    assert.equal((await refundsOfOrder(ctx.db, order.id))[0]?.status, 'FAILED');

    const dry = await retryRefund(ctx, { refundId: refund!.id, actor: admin, dryRun: true });
    assert.equal(dry.sent, false);
    assert.equal(await statusOf(order.id), 'REFUND_FAILED');
    const r = await retryRefund(ctx, { refundId: refund!.id, actor: admin });
    assert.equal(r.refund.status, 'PENDING');
    assert.ok(r.refund.providerRefundId);
    assert.equal(await statusOf(order.id), 'REFUNDING');
    await assert.rejects(retryRefund(ctx, { refundId: refund!.id, actor: admin }), isCode('ORDER_STATE_CONFLICT'));
    assert.equal(await completeRefund(ctx, { refundId: refund!.id, amount: 2000 }), 'REFUNDED');
    assert.equal(await statusOf(order.id), 'REFUNDED');
    assert.deepEqual(await stockOf(ctx, sku), { available: 10, reserved: 0, sold: 0 });
  });

  it('the close-expired sweep isolates a failing order: the others are closed, the failure counted', async () => {
    const made = [await pendingPayment(100), await pendingPayment(100), await pendingPayment(100)];
    const past = new Date(Date.now() - 3_600_000);
    const ids = made.map((m) => m.order.id);
    await ctx.db.update(orders).set({ payDeadline: past }).where(inArray(orders.id, ids));
    // The middle order's reservation is gone (broken data): releasing its stock fails.
    await ctx.db.update(skus).set({ reserved: 0 }).where(eq(skus.id, made[1]!.sku));
    const r = await closeExpiredOrders(ctx, { now: new Date(past.getTime() + 60_000) });
    assert.ok(r.failed >= 1, `no failure counted: ${JSON.stringify(r)}`);
    assert.equal(await statusOf(ids[0]!), 'CANCELLED');
    assert.equal(await statusOf(ids[1]!), 'PENDING_PAYMENT');
    assert.equal(await statusOf(ids[2]!), 'CANCELLED');
    const metrics = await ctx.metrics.getSingleMetricAsString('qianfan_sweep_items_total');
    assert.match(metrics, /sweep="close-expired-orders",result="failed"/);
    await ctx.db.update(orders).set({ status: 'CANCELLED' }).where(eq(orders.id, ids[1]!)); // out of later sweeps
  });

  it('payment reconciliation applies what the provider knows and reports what it cannot fix', async () => {
    const since = new Date(Date.now() - 1000);
    const lost = await pendingPayment(1500);
    await recordSandboxOutcome(ctx, lost.payment.id, 'succeed'); // paid at the provider; the webhook never came
    const declined = await pendingPayment(1500);
    await recordSandboxOutcome(ctx, declined.payment.id, 'fail');
    const unknown = await pendingPayment(1500);
    const broken = await pendingPayment(1500);
    await ctx.db.update(orders).set({ status: 'PAID' }).where(eq(orders.id, broken.order.id)); // paid without a payment
    const r = await reconcilePayments(ctx, { since, pendingAfterMs: 0 });
    assert.equal(await statusOf(lost.order.id), 'PAID');
    assert.equal((await paymentsOfOrder(ctx.db, declined.order.id))[0]?.status, 'FAILED');
    assert.equal((await paymentsOfOrder(ctx.db, unknown.order.id))[0]?.status, 'PENDING');
    const of = (id: bigint) => r.findings.filter((f) => f.orderId === String(id));
    assert.ok(of(lost.order.id).some((f) => f.fixed));
    assert.ok(of(unknown.order.id).some((f) => f.kind === 'PENDING_AT_PROVIDER' && !f.fixed));
    assert.ok(of(broken.order.id).some((f) => f.kind === 'PAID_ORDER_WITHOUT_PAYMENT' && !f.fixed));
    const second = await reconcilePayments(ctx, { since, pendingAfterMs: 0 });
    assert.ok(!second.findings.some((f) => f.orderId === String(lost.order.id)), 'a fixed payment was fixed twice');
    await ctx.db.update(orders).set({ status: 'CANCELLED' }).where(eq(orders.id, broken.order.id));
  });

  it('close-expired: orders that keep failing at the head never starve the others (the next run goes on past them)', async () => {
    const broken = [await pendingPayment(100), await pendingPayment(100), await pendingPayment(100)];
    const good = [await pendingPayment(100), await pendingPayment(100)];
    // Deadlines of their own, long past, oldest first: the broken ones head the queue.
    const base = Date.UTC(2001, 0, 1);
    for (const [i, m] of [...broken, ...good].entries()) {
      await ctx.db
        .update(orders)
        .set({ payDeadline: new Date(base + i * 1000) })
        .where(eq(orders.id, m.order.id));
    }
    for (const m of broken) await ctx.db.update(skus).set({ reserved: 0 }).where(eq(skus.id, m.sku)); // release fails
    const now = new Date(base + 60_000);
    const first = await closeExpiredOrders(ctx, { now, limit: 3, pageSize: 2 });
    assert.deepEqual([first.due, first.failed, first.closed], [3, 3, 0]);
    const second = await closeExpiredOrders(ctx, { now, limit: 3, pageSize: 2 });
    assert.equal(second.closed, 2, JSON.stringify(second));
    for (const m of good) assert.equal(await statusOf(m.order.id), 'CANCELLED');
    for (const m of broken) assert.equal(await statusOf(m.order.id), 'PENDING_PAYMENT');
    // Back to the head on the next pass: the broken ones are tried again (and out of later sweeps after).
    const third = await closeExpiredOrders(ctx, { now, limit: 3, pageSize: 2 });
    assert.equal(third.failed, 3);
    for (const m of broken) await ctx.db.update(orders).set({ status: 'CANCELLED' }).where(eq(orders.id, m.order.id));
  });

  it('reconciliation closes a pending attempt whose order left PENDING_PAYMENT (EXPIRED) and stops asking; a late success is refunded', async () => {
    const since = new Date(Date.now() - 1000);
    const p = await pendingPayment(1700);
    await cancelOrder(ctx, { orderId: p.order.id, reason: 'USER', actor: admin });
    const r = await reconcilePayments(ctx, { since, pendingAfterMs: 0 });
    assert.ok(r.findings.some((f) => f.paymentId === String(p.payment.id) && f.kind === 'PENDING_EXPIRED' && f.fixed));
    assert.equal((await paymentsOfOrder(ctx.db, p.order.id))[0]?.status, 'EXPIRED');
    const again = await reconcilePayments(ctx, { since, pendingAfterMs: 0 });
    assert.ok(
      !again.findings.some((f) => f.paymentId === String(p.payment.id)),
      'an expired attempt was asked about again',
    );
    const late = await applyPaymentResult(ctx, {
      paymentId: p.payment.id,
      status: 'SUCCEEDED',
      amount: 1700,
      currency: 'CNY',
      providerTxnId: p.payment.providerTxnId!,
    });
    assert.equal(late, 'REFUNDING_ORPHAN');
  });

  it('reconciliation reports a PENDING payment of a provider this process has not enabled, without failing the run', async () => {
    const since = new Date(Date.now() - 1000);
    const p = await pendingPayment(900);
    await ctx.db.update(payments).set({ provider: 'alipay' }).where(eq(payments.id, p.payment.id));
    const r = await reconcilePayments(ctx, { since, pendingAfterMs: 0 });
    const f = r.findings.find((x) => x.paymentId === String(p.payment.id));
    assert.equal(f?.kind, 'PENDING_PROVIDER_OFF', JSON.stringify(r.findings));
    assert.equal(f?.fixed, false);
    assert.match(f?.action ?? '', /'alipay' is not enabled/);
    assert.equal(r.failed, 0, 'a provider that is off is a finding, not a failure to run again');
    assert.equal((await paymentsOfOrder(ctx.db, p.order.id))[0]?.status, 'PENDING');
    await cancelOrder(ctx, { orderId: p.order.id, reason: 'USER', actor: admin });
  });

  it('reconciliation pages through more PENDING payments than one query returns', async () => {
    const since = new Date(Date.now() - 1000);
    const made = [];
    for (let i = 0; i < 5; i++) made.push(await pendingPayment(100));
    for (const m of made) await recordSandboxOutcome(ctx, m.payment.id, 'fail');
    const r = await reconcilePayments(ctx, { since, pendingAfterMs: 0, limit: 2 });
    for (const m of made) assert.equal((await paymentsOfOrder(ctx.db, m.order.id))[0]?.status, 'FAILED');
    assert.ok(r.checked >= 5);
  });

  it('an idempotency key completes in the order transaction: a crash after commit never makes a second order', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 10 }]);
    const userId = newUser();
    const claim = { scope: `test:${userId}`, key: `k-${randomUUID()}`, hash: 'h1' };
    const run = (crash: boolean) =>
      runIdempotent<{ orderId: string }>(ctx, claim, async (seal) => {
        const c = await createOrder(ctx, {
          userId,
          items: [{ skuId: sku!, quantity: 1 }],
          address,
          seal: (tx, r) => seal(tx, { orderId: String(r.order.id) }),
        });
        if (crash) throw new Error('the process died before answering');
        return { orderId: String(c.order.id) };
      });
    await assert.rejects(run(true), /died/);
    const retried = await run(false);
    assert.equal(retried.replayed, true);
    const mine = await ordersOfUser(ctx, userId);
    assert.equal(mine.length, 1);
    assert.equal(retried.value.orderId, String(mine[0]!.id));

    // A conflict that may clear is not stored as the key's answer: the retry runs again.
    const claim2 = { ...claim, key: `k-${randomUUID()}` };
    let calls = 0;
    await assert.rejects(
      runIdempotent(ctx, claim2, async () => {
        calls++;
        throw new AppError('CONCURRENT_MODIFICATION', 'busy');
      }),
      isCode('CONCURRENT_MODIFICATION'),
    );
    const ok = await runIdempotent(ctx, claim2, async () => {
      calls++;
      return { fine: true };
    });
    assert.equal(ok.replayed, false);
    assert.equal(calls, 2);
  });

  it('the order cache round-trips every string and never stores a version older than an invalidated one', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 10 }]);
    const userId = newUser();
    const weird = { ...address, detail: '7n', name: '12345678901234567890n' };
    const { order } = await createOrder(ctx, {
      userId,
      items: [{ skuId: sku!, quantity: 1 }],
      address: weird,
      note: '7n',
    });
    await getOrderDetail(ctx, { orderId: order.id }); // fills the cache
    const cached = await getOrderDetail(ctx, { orderId: order.id });
    assert.equal(cached.order.note, '7n');
    assert.equal(cached.order.address.detail, '7n');
    assert.equal(cached.order.address.name, '12345678901234567890n');
    assert.equal(typeof cached.order.id, 'bigint');

    const cache = cacheAside<{ v: number }>(ctx.redis, {
      prefix: `test:cache:${randomUUID()}:`,
      ttlSeconds: 60,
      jitterSeconds: 0,
      notFoundTtlSeconds: 5,
      encode: JSON.stringify,
      decode: JSON.parse,
      versionOf: (x) => x.v,
    });
    let source = 1;
    assert.deepEqual(await cache.get('k', async () => ({ v: source })), { v: 1 });
    // A reader loads version 1 just before a change to version 2 commits and invalidates.
    const slowRead = cache.get('k2', async () => {
      await sleep(200);
      return { v: 1 };
    });
    await sleep(50);
    source = 2;
    await cache.invalidate('k2', 2);
    assert.deepEqual(await slowRead, { v: 1 }); // that reader gets what it read...
    assert.deepEqual(await cache.get('k2', async () => ({ v: source })), { v: 2 }); // ...but it was never cached
    assert.deepEqual(await cache.get('k2', async () => ({ v: 99 })), { v: 2 });
  });
});

describe('kill -9 between the half message and the commit (real broker check-back)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', logger: testLogger });
  });
  after(async () => ctx?.close());

  it('the DB state and the event agree at every point', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 10 }]);
    const runs: Record<string, { userId: bigint; eventId: string }> = {};
    for (const point of ['in-tx', 'after-commit'] as const) {
      const userId = newUser();
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/fixtures/order-then-die.ts', String(userId), String(sku), point],
        {
          env: testEnv(),
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const eventId = await waitFor(`the child to stop ${point}`, 30_000, () => {
        if (child.exitCode !== null) throw new Error(`child exited with ${child.exitCode}`);
        return /READY (\S+)/.exec(out)?.[1];
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      runs[point] = { userId, eventId };
    }
    // in-tx: the DB rolled back; after-commit: the order and its tx-log row committed.
    assert.equal((await ordersOfUser(ctx, runs['in-tx']!.userId)).length, 0);
    assert.equal((await ordersOfUser(ctx, runs['after-commit']!.userId)).length, 1);

    const { producer: recovering, asked } = checkBackProducer(
      ctx.config,
      ctx.db,
      topics.orderEvent.name,
      ctx.config.rocketmq.txRollbackAfterMs,
    );
    await recovering.start();
    try {
      await waitFor(
        'the check-back to commit the committed order',
        60_000,
        () => asked.get(runs['after-commit']!.eventId) === TxResolution.COMMIT,
      );
      // The uncommitted one is held (UNKNOWN) until it is older than txRollbackAfterMs, then rolled back.
      await waitFor(
        'the check-back to roll back the rolled-back order',
        90_000,
        () => asked.get(runs['in-tx']!.eventId) === TxResolution.ROLLBACK,
      );
    } finally {
      await recovering.close();
    }
    assert.deepEqual(await stockOf(ctx, sku!), { available: 9, reserved: 1, sold: 0 });
  });
});

describe('payment provider calls are bounded', () => {
  it('a provider that never answers is DEPENDENCY_UNAVAILABLE after payment.providerTimeoutMs', async () => {
    const never = new Promise<never>(() => {});
    const silent = bounded(
      {
        name: 'silent',
        methods: ['any'],
        createCharge: () => never,
        queryCharge: () => never,
        closeCharge: () => never,
        refund: () => never,
        queryRefund: () => never,
      },
      150,
    );
    const started = Date.now();
    await assert.rejects(
      silent.queryCharge({ paymentId: 1n, orderId: 1n, amount: 1, currency: 'CNY', providerTxnId: 'x' }),
      isCode('DEPENDENCY_UNAVAILABLE'),
    );
    assert.ok(Date.now() - started < 1000);
    assert.equal(testConfig().payment.providerTimeoutMs, 5000);
  });
});
