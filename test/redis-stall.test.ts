import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import { sandboxWebhook } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { waitFor } from './helpers/wait.js';

// A Redis of the test's own, so it can be stalled (SIGSTOP: the connection stays open, nothing answers)
// without touching the Redis every other test uses.
const REDIS_PORT = 16_900 + Math.floor(Math.random() * 100); // apart from the chaos suite's 16390

describe('a stalled Redis (SIGSTOP) degrades restful instead of stalling it', () => {
  let redis: ChildProcess;
  let ctx: ServiceContext;
  let app: FastifyInstance;
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qf-redis-stall-'));
    redis = spawn(
      'redis-server',
      ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    ctx = await waitFor('the private Redis', 10_000, () =>
      createServiceContext(
        testConfig({
          QIANFAN_REDIS__PORT: String(REDIS_PORT),
          QIANFAN_REDIS__COMMAND_TIMEOUT_MS: '300',
          QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '100000',
        }),
        { process: 'restful', mq: true, logger: testLogger },
      ).catch(() => undefined),
    );
    app = await buildApp(ctx);
  });
  after(async () => {
    redis?.kill('SIGCONT');
    await app?.close();
    await ctx?.close();
    redis?.kill('SIGKILL');
  });

  const timed = async (opts: InjectOptions) => {
    const started = Date.now();
    const res = await app.inject(opts);
    return { res, ms: Date.now() - started };
  };

  it('order reads answer from MySQL within 2 s, readiness says degraded (200), a flash purchase is 503 + Retry-After fast', async () => {
    const user = BigInt(Date.now()) * 1000n + 555_000n;
    const token = await signDevToken(ctx.config.auth, { userId: String(user), roles: ['user'] }, 600);
    const admin = await signDevToken(ctx.config.auth, { userId: '1', roles: ['admin'] }, 600);
    const auth = { authorization: `Bearer ${token}` };
    const [sku, saleSku] = await makeSkus(ctx, [
      { price: 1200, available: 10 },
      { price: 9900, available: 10 },
    ]);
    const created = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...auth, 'idempotency-key': randomUUID() },
      payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    assert.equal(created.statusCode, 201, created.body);
    const orderId = created.json().id as string;
    const sale = await app.inject({
      method: 'POST',
      url: '/v1/admin/flash-sales',
      headers: { authorization: `Bearer ${admin}`, 'idempotency-key': randomUUID() },
      payload: {
        skuId: String(saleSku),
        price: 100,
        stock: 5,
        perUserLimit: 1,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    assert.equal(sale.statusCode, 201, sale.body);
    // Warm: the order is in the detail cache, the limiter has claimed blocks.
    assert.equal((await app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: auth })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).json().status, 'ok');

    redis.kill('SIGSTOP');
    try {
      for (let i = 0; i < 3; i++) {
        const read = await timed({ method: 'GET', url: `/v1/orders/${orderId}`, headers: auth });
        assert.equal(read.res.statusCode, 200, read.res.body);
        assert.equal(read.res.json().id, orderId);
        assert.ok(read.ms < 2000, `GET order took ${read.ms} ms during the stall`);
        const list = await timed({ method: 'GET', url: '/v1/orders', headers: auth });
        assert.equal(list.res.statusCode, 200, list.res.body);
        assert.ok(list.ms < 2000, `GET orders took ${list.ms} ms during the stall`);
      }
      const ready = await timed({ method: 'GET', url: '/readyz' });
      assert.equal(ready.res.statusCode, 200, ready.res.body);
      assert.equal(ready.res.json().status, 'degraded');
      assert.equal(ready.res.json().checks.redis.ok, false);
      assert.equal(ready.res.json().checks.redis.degrades, true);
      assert.equal(ready.res.json().checks.mysql.ok, true);
      assert.ok(ready.ms < 2000, `readyz took ${ready.ms} ms`);

      const buy = await timed({
        method: 'POST',
        url: `/v1/flash-sales/${sale.json().id}/purchases`,
        headers: { ...auth, 'idempotency-key': randomUUID() },
        payload: { address },
      });
      assert.equal(buy.res.statusCode, 503, buy.res.body);
      assert.equal(buy.res.json().code, 'DEPENDENCY_UNAVAILABLE');
      assert.ok(Number(buy.res.headers['retry-after']) > 0);
      assert.ok(buy.ms < 2000, `the purchase took ${buy.ms} ms to be refused`);

      // A provider's webhook cannot be checked against replays now: 503, and the provider sends it again.
      const w = sandboxWebhook(ctx.config.payment.webhookSecret, {
        type: 'payment.succeeded',
        paymentId: '1',
        orderId,
        providerTxnId: 'stall',
        amount: 1200,
        currency: 'CNY',
        occurredAt: new Date().toISOString(),
      });
      const hook = await timed({
        method: 'POST',
        url: '/v1/payments/webhooks/sandbox',
        headers: w.headers,
        payload: w.body,
      });
      assert.equal(hook.res.statusCode, 503, hook.res.body);
      assert.ok(hook.ms < 2000, `the webhook took ${hook.ms} ms`);
    } finally {
      redis.kill('SIGCONT');
    }
    await waitFor('readiness ok again', 10_000, async () => {
      const r = await app.inject({ method: 'GET', url: '/readyz' });
      return r.json().status === 'ok';
    });
    const after = await app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: auth });
    assert.equal(after.statusCode, 200);
  });
});
