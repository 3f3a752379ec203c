import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import type { ConsumerLoop } from '../internal/mq/index.js';
import { getPayment, sandboxWebhook } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { startPaymentConsumer } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { waitFor } from './helpers/wait.js';

const PER_IP = 4;
const PER_PROVIDER = 3;

// Buyers behind one address (a carrier NAT, an office) can use up a per-IP budget; the payment
// provider's notifications must still get through, or a paid order is cancelled at its deadline.
describe('payment webhooks are outside the per-IP and per-user limits', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let loop: ConsumerLoop;
  before(async () => {
    ctx = await createServiceContext(
      testConfig({
        // A key space of its own: this test spends the per-IP budget of 127.0.0.1.
        QIANFAN_REDIS__KEY_PREFIX: `qf:order:test:webhook-limits:${Date.now()}:`,
        QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: String(PER_IP),
        QIANFAN_HTTP__WEBHOOK_RATE_LIMIT_PER_PROVIDER_PER_MINUTE: String(PER_PROVIDER),
      }),
      { process: 'restful', mq: true, logger: testLogger },
    );
    app = await buildApp(ctx);
    loop = await startPaymentConsumer(ctx);
  });
  after(async () => {
    await loop?.stop();
    await app?.close();
    await ctx?.close();
  });

  it('a signed webhook is accepted after the IP budget is spent; the provider limit counts only verified ones', async () => {
    const userId = BigInt(Date.now()) * 1000n + 444_000n;
    const token = await signDevToken(ctx.config.auth, { userId: String(userId), roles: ['user'] }, 600);
    const auth = { authorization: `Bearer ${token}` };
    const [sku] = await makeSkus(ctx, [{ price: 700, available: 5 }]);
    const order = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...auth, 'idempotency-key': randomUUID() },
      payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    assert.equal(order.statusCode, 201, order.body);
    const pay = await app.inject({
      method: 'POST',
      url: `/v1/orders/${order.json().id}/payments`,
      headers: { ...auth, 'idempotency-key': randomUUID() },
    });
    assert.equal(pay.statusCode, 201, pay.body);
    // The rest of 127.0.0.1's budget goes on reads until it is refused.
    let refused = 0;
    for (let i = 0; i < PER_IP + 2; i++) {
      const r = await app.inject({ method: 'GET', url: `/v1/orders/${order.json().id}`, headers: auth });
      if (r.statusCode === 429) refused++;
    }
    assert.ok(refused >= 2, 'the per-IP budget is spent');

    const payment = (await getPayment(ctx.db, BigInt(pay.json().id)))!;
    const notice = {
      type: 'payment.succeeded' as const,
      paymentId: String(payment.id),
      orderId: String(payment.orderId),
      providerTxnId: payment.providerTxnId!,
      amount: 700,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    };
    const send = (w: ReturnType<typeof sandboxWebhook>) =>
      app.inject({ method: 'POST', url: '/v1/payments/webhooks/sandbox', headers: w.headers, payload: w.body });
    // Forged webhooks are refused by signature and do not use up the provider's budget.
    for (let i = 0; i < PER_PROVIDER + 2; i++) {
      const forged = await send(sandboxWebhook('not-the-webhook-secret-0123456789', notice));
      assert.equal(forged.statusCode, 401, forged.body);
    }
    // Each resend is signed anew (another whole second, from one fixed start so no two share a
    // timestamp): all verified, all within the provider's budget.
    const signedAt = Date.now();
    for (let i = 0; i < PER_PROVIDER; i++) {
      const w = sandboxWebhook(ctx.config.payment.webhookSecret, notice, signedAt - i * 1000);
      const r = await send(w);
      assert.equal(r.statusCode, 202, r.body);
    }
    const over = await send(sandboxWebhook(ctx.config.payment.webhookSecret, notice, signedAt - 10_000));
    assert.equal(over.statusCode, 429, over.body);
    assert.equal(over.json().code, 'RATE_LIMITED');
    assert.ok(Number(over.headers['retry-after']) > 0);

    // The buyer's address is still over its budget: the payment is checked in the database. (A consumer an
    // earlier test stopped mid-receive can hold this order's FIFO queue for its 30 s invisible time.)
    await waitFor(
      'the payment to be applied',
      90_000,
      async () => (await getPayment(ctx.db, payment.id))?.status === 'SUCCEEDED',
    );
  });
});
