import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { signDevToken } from '../internal/auth/index.js';
import { idempotencyKeys } from '../internal/model/index.js';
import type { ConsumerLoop } from '../internal/mq/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { startPaymentConsumer } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, ordersOfUser, stockOf } from './helpers/orders.js';
import { waitFor } from './helpers/wait.js';

let nextUser = BigInt(Date.now()) * 1000n + 700_000n;

describe('HTTP API through buildApp (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let paymentLoop: ConsumerLoop;
  before(async () => {
    // Some tests here build a second app in this process; compiling its routes blocks the event loop for a
    // second or more on a loaded host, which this app would rightly shed. Shedding is tested below.
    ctx = await createServiceContext(testConfig({ QIANFAN_HTTP__MAX_EVENT_LOOP_DELAY_MS: '30000' }), {
      process: 'restful',
      mq: true,
      logger: testLogger,
    });
    app = await buildApp(ctx);
    paymentLoop = await startPaymentConsumer(ctx);
  });
  after(async () => {
    await paymentLoop?.stop();
    await app?.close();
    await ctx?.close();
  });

  const tokenFor = (userId: bigint, roles = ['user']) =>
    signDevToken(ctx.config.auth, { userId: String(userId), roles }, 600);
  async function call(
    method: 'GET' | 'POST',
    url: string,
    opts: { token?: string; body?: unknown; key?: string; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.key) headers['idempotency-key'] = opts.key;
    const res = await app.inject({
      method,
      url,
      headers,
      ...(opts.body !== undefined ? { payload: opts.body as object } : {}),
    });
    return {
      status: res.statusCode,
      body: res.body ? (JSON.parse(res.body) as Record<string, any>) : {},
      headers: res.headers,
    };
  }

  it('a buyer creates, reads, pays through the sandbox, and the consumer marks the order PAID', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 4900, available: 10 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const body = { items: [{ skuId: sku!.toString(), quantity: 2 }], address };
    const created = await call('POST', '/v1/orders', { token, body, key: randomUUID() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.totalAmount, 9800);
    assert.equal(created.body.status, 'PENDING_PAYMENT');
    assert.match(created.body.id, /^\d+$/);
    const got = await call('GET', `/v1/orders/${created.body.id}`, { token });
    assert.equal(got.status, 200);
    assert.equal(got.body.items.length, 1);
    const other = await call('GET', `/v1/orders/${created.body.id}`, { token: await tokenFor(++nextUser) });
    assert.equal(other.status, 404);
    assert.equal(other.body.code, 'ORDER_NOT_FOUND');
    const pay = await call('POST', `/v1/orders/${created.body.id}/payments`, { token, key: randomUUID() });
    assert.equal(pay.status, 201, JSON.stringify(pay.body));
    const hook = await call('POST', `/v1/sandbox/payments/${pay.body.id}/succeed`);
    assert.equal(hook.status, 202, JSON.stringify(hook.body));
    const paid = await waitFor('the order to be PAID', 30_000, async () => {
      const r = await call('GET', `/v1/orders/${created.body.id}`, { token });
      return r.body.status === 'PAID' ? r : undefined;
    });
    assert.equal(paid.body.paidAmount, 9800);
    assert.deepEqual(await stockOf(ctx, sku!), { available: 8, reserved: 0, sold: 2 });
    const list = await call('GET', '/v1/orders?limit=10', { token });
    assert.deepEqual(
      list.body.orders.map((o: { id: string }) => o.id),
      [created.body.id],
    );
  });

  it('201 carries Location (also when replayed); the detail answers 304 to its ETag until the order changes', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 150, available: 5 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const key = randomUUID();
    const body = { items: [{ skuId: sku!.toString(), quantity: 1 }], address };
    const created = await call('POST', '/v1/orders', { token, body, key });
    assert.equal(created.status, 201);
    assert.equal(created.headers.location, `/v1/orders/${created.body.id}`);
    const replay = await call('POST', '/v1/orders', { token, body, key });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.headers.location, created.headers.location);

    const first = await call('GET', String(created.headers.location), { token });
    const etag = String(first.headers.etag);
    assert.match(etag, /^W\/"\d+\.\d+\.\d+"$/);
    const same = await app.inject({
      method: 'GET',
      url: String(created.headers.location),
      headers: { authorization: `Bearer ${token}`, 'if-none-match': etag },
    });
    assert.equal(same.statusCode, 304);
    assert.equal(same.body, '');
    assert.equal(same.headers.etag, etag);
    // Another user's order is still 404, whatever they send in If-None-Match.
    const other = await app.inject({
      method: 'GET',
      url: String(created.headers.location),
      headers: { authorization: `Bearer ${await tokenFor(++nextUser)}`, 'if-none-match': etag },
    });
    assert.equal(other.statusCode, 404);

    const cancelled = await call('POST', `/v1/orders/${created.body.id}/cancel`, { token, key: randomUUID() });
    assert.equal(cancelled.status, 200);
    assert.deepEqual(cancelled.body.items, created.body.items, 'cancel returns the whole order');
    const changed = await app.inject({
      method: 'GET',
      url: String(created.headers.location),
      headers: { authorization: `Bearer ${token}`, 'if-none-match': etag },
    });
    assert.equal(changed.statusCode, 200);
    assert.notEqual(changed.headers.etag, etag);
    assert.equal(changed.json().status, 'CANCELLED');
    const list = await call('GET', '/v1/orders', { token });
    const { payments: _p, refunds: _r, shipments: _s, timeline: _t, afterSales: _a, ...summary } = changed.json();
    assert.deepEqual(list.body.orders, [summary], 'a list shows the same Order as the detail, without its parts');
  });

  it('admin ships and delivers, the buyer confirms; a buyer cannot use admin routes', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 300, available: 10 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const admin = await tokenFor(1n, ['user', 'admin']);
    const created = await call('POST', '/v1/orders', {
      token,
      body: { items: [{ skuId: sku!.toString(), quantity: 1 }], address },
      key: randomUUID(),
    });
    const pay = await call('POST', `/v1/orders/${created.body.id}/payments`, { token, key: randomUUID() });
    await call('POST', `/v1/sandbox/payments/${pay.body.id}/succeed`);
    await waitFor(
      'PAID',
      30_000,
      async () => (await call('GET', `/v1/orders/${created.body.id}`, { token })).body.status === 'PAID',
    );
    const badShip = await call('POST', `/v1/admin/orders/${created.body.id}/ship`, {
      token: admin,
      key: randomUUID(),
      body: { carrier: 'S', trackingNo: '1' },
    });
    assert.equal(badShip.status, 400);
    const denied = await call('POST', `/v1/admin/orders/${created.body.id}/ship`, {
      token,
      key: randomUUID(),
      body: { carrier: 'SF', trackingNo: `SF${created.body.id}` },
    });
    assert.equal(denied.status, 403);
    const shipped = await call('POST', `/v1/admin/orders/${created.body.id}/ship`, {
      token: admin,
      key: randomUUID(),
      body: { carrier: 'SF', trackingNo: `SF${created.body.id}` },
    });
    assert.equal(shipped.body.status, 'SHIPPED');
    // One representation: the ship answer is the same Order as the detail, items included; the detail
    // adds the order's payments, refunds, shipments and timeline.
    const { payments, refunds, shipments, timeline, afterSales, ...lean } = (
      await call('GET', `/v1/orders/${created.body.id}`, { token })
    ).body;
    assert.deepEqual(shipped.body, lean);
    assert.deepEqual(
      shipments.map((s: Record<string, unknown>) => [s.carrier, s.trackingNo, s.status]),
      [['SF', `SF${created.body.id}`, 'SHIPPED']],
    );
    assert.deepEqual(
      payments.map((p: Record<string, unknown>) => [p.status, p.kept]),
      [['SUCCEEDED', true]],
    );
    assert.deepEqual(refunds, []);
    assert.deepEqual(afterSales, []);
    assert.deepEqual(
      timeline.map((t: Record<string, unknown>) => `${t.from}>${t.to}`),
      ['>PENDING_PAYMENT', 'PENDING_PAYMENT>PAID', 'PAID>SHIPPED'],
    );
    assert.deepEqual(shipped.body.items, created.body.items);
    assert.equal(
      (await call('POST', `/v1/admin/orders/${created.body.id}/deliver`, { token: admin, key: randomUUID() })).body
        .status,
      'DELIVERED',
    );
    const done = await call('POST', `/v1/orders/${created.body.id}/confirm-receipt`, { token, key: randomUUID() });
    assert.equal(done.body.status, 'COMPLETED');
    const conflict = await call('POST', `/v1/orders/${created.body.id}/cancel`, { token, key: randomUUID() });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.code, 'ORDER_STATE_CONFLICT');
    assert.equal(conflict.body.details.currentStatus, 'COMPLETED');
  });

  it('Idempotency-Key: same key and body replay; different body is 422; the key is required', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 10 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const body = { items: [{ skuId: sku!.toString(), quantity: 1 }], address };
    const key = randomUUID();
    const first = await call('POST', '/v1/orders', { token, body, key });
    const again = await call('POST', '/v1/orders', { token, body, key });
    assert.equal(again.status, 201);
    assert.deepEqual(again.body, first.body);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    // Kept 24 h for replays, the stored answer holds no phone number or street; the replay has them.
    const [stored] = await ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    assert.ok(stored?.responseBody?.includes(first.body.id), 'the stored answer names the order');
    assert.ok(!stored?.responseBody?.includes(address.phone), 'the stored answer holds the phone number');
    assert.ok(!stored?.responseBody?.includes(address.detail), 'the stored answer holds the street');
    assert.equal(again.body.address.phone, address.phone);
    assert.equal(again.body.address.detail, address.detail);
    const changed = await call('POST', '/v1/orders', { token, body: { ...body, note: 'other' }, key });
    assert.equal(changed.status, 422);
    assert.equal(changed.body.code, 'IDEMPOTENCY_KEY_REUSED');
    const missing = await call('POST', '/v1/orders', { token, body });
    assert.equal(missing.status, 400);
    assert.equal((await ordersOfUser(ctx, userId)).length, 1);
  });

  it('100 parallel identical creates with one key make one order and identical responses', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 500 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const body = { items: [{ skuId: sku!.toString(), quantity: 1 }], address };
    const key = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 100 }, () => call('POST', '/v1/orders', { token, body, key })),
    );
    const ok = results.filter((r) => r.status === 201);
    const inFlight = results.filter((r) => r.status === 409 && r.body.code === 'IDEMPOTENCY_KEY_IN_FLIGHT');
    assert.equal(ok.length + inFlight.length, 100);
    assert.ok(ok.length >= 1);
    for (const r of ok) assert.deepEqual(r.body, ok[0]!.body);
    assert.equal((await ordersOfUser(ctx, userId)).length, 1);
    const after = await call('POST', '/v1/orders', { token, body, key });
    assert.deepEqual(after.body, ok[0]!.body);
  });

  it('bad input gets a 4xx with a code and writes nothing', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const item = (over: object) => ({ items: [{ skuId: sku!.toString(), quantity: 1, ...over }], address });
    const cases: Array<[unknown, number, string]> = [
      [item({ quantity: '1' }), 400, 'VALIDATION_FAILED'],
      [item({ quantity: 0 }), 400, 'VALIDATION_FAILED'],
      [item({ quantity: -3 }), 400, 'VALIDATION_FAILED'],
      [item({ quantity: 1e12 }), 400, 'VALIDATION_FAILED'],
      [item({ skuId: 123 }), 400, 'VALIDATION_FAILED'],
      [item({ extra: true }), 400, 'VALIDATION_FAILED'],
      [{ items: [{ skuId: '999', quantity: 1 }], address }, 400, 'SKU_NOT_FOUND'],
      [
        {
          items: [
            { skuId: sku!.toString(), quantity: 1 },
            { skuId: sku!.toString(), quantity: 1 },
          ],
          address,
        },
        400,
        'VALIDATION_FAILED',
      ],
      [
        { items: Array.from({ length: 51 }, (_, i) => ({ skuId: String(i + 1), quantity: 1 })), address },
        400,
        'VALIDATION_FAILED',
      ],
      [
        { items: Array.from({ length: 5000 }, (_, i) => ({ skuId: String(i + 1), quantity: 1 })), address },
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [{ items: [{ skuId: sku!.toString(), quantity: 6 }], address }, 409, 'INSUFFICIENT_STOCK'],
      [{ items: [], address }, 400, 'VALIDATION_FAILED'],
      [{ items: [{ skuId: sku!.toString(), quantity: 1 }] }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [body, status, code] of cases) {
      const r = await call('POST', '/v1/orders', { token, body, key: randomUUID() });
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 80)} -> ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code);
      assert.ok(r.body.requestId);
    }
    const huge = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ items: [], address, note: 'x'.repeat(200_000) }),
    });
    assert.equal(huge.statusCode, 413);
    const malformed = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      payload: '{"items": [',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(JSON.parse(malformed.body).code, 'VALIDATION_FAILED');
    assert.equal((await ordersOfUser(ctx, userId)).length, 0);
    assert.deepEqual(await stockOf(ctx, sku!), { available: 5, reserved: 0, sold: 0 });
  });

  it('missing, expired and forged tokens are 401; non-admins get 403 on admin routes', async () => {
    const userId = ++nextUser;
    assert.equal((await call('GET', '/v1/orders')).status, 401);
    const expired = await new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(userId))
      .setIssuer(ctx.config.auth.jwtIssuer)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(Buffer.from(ctx.config.auth.jwtSecret));
    const e = await call('GET', '/v1/orders', { token: expired });
    assert.equal(e.status, 401);
    assert.equal(e.body.message, 'token expired');
    const forged = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(userId))
      .setIssuer(ctx.config.auth.jwtIssuer)
      .setExpirationTime('1h')
      .sign(Buffer.from('not-the-secret-not-the-secret-not-the-secret'));
    assert.equal((await call('GET', '/v1/admin/orders', { token: forged })).status, 401);
    const user = await tokenFor(userId);
    const denied = await call('GET', '/v1/admin/orders', { token: user });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.code, 'FORBIDDEN');
    assert.equal(
      (await call('GET', '/v1/admin/orders?limit=1', { token: await tokenFor(1n, ['user', 'admin']) })).status,
      200,
    );
  });

  it('forged and replayed webhooks are refused', async () => {
    const body = JSON.stringify({
      type: 'payment.succeeded',
      paymentId: '1',
      orderId: '1',
      providerTxnId: 'x',
      amount: 1,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const r = await app.inject({
      method: 'POST',
      url: '/v1/payments/webhooks/sandbox',
      headers: {
        'content-type': 'application/json',
        'x-qf-timestamp': ts,
        'x-qf-signature': `sha256=${'0'.repeat(64)}`,
      },
      payload: body,
    });
    assert.equal(r.statusCode, 401);
    assert.equal(JSON.parse(r.body).code, 'INVALID_SIGNATURE');
  });

  it('the OpenAPI document passes a third-party validator and lists the routes', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    await SwaggerParser.validate(structuredClone(doc) as never);
    for (const p of [
      '/v1/orders',
      '/v1/orders/{id}',
      '/v1/orders/{id}/payments',
      '/v1/admin/orders/{id}/ship',
      '/v1/payments/webhooks/{provider}',
    ]) {
      assert.ok(doc.paths[p], `missing ${p}`);
    }
  });

  it('a lone surrogate in any string is a 400 that writes nothing; a long x-request-id is replaced', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const userId = ++nextUser;
    const token = await tokenFor(userId);
    const body = `{"items":[{"skuId":"${sku}","quantity":1}],"address":${JSON.stringify(address).replace('"Hangzhou"', '"Hang\\ud800zhou"')}}`;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      payload: body,
    });
    assert.equal(res.statusCode, 400, res.body);
    const err = JSON.parse(res.body);
    assert.equal(err.code, 'VALIDATION_FAILED');
    assert.match(err.message, /address\.city/);
    assert.equal((await ordersOfUser(ctx, userId)).length, 0);

    const long = 'r'.repeat(200);
    const r2 = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': long } });
    assert.notEqual(r2.headers['x-request-id'], long);
    assert.ok(String(r2.headers['x-request-id']).length <= 128);
    const r3 = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-abc.1' } });
    assert.equal(r3.headers['x-request-id'], 'trace-abc.1');
  });

  it('the sandbox payer routes exist only when payment.sandbox.enabled is true', async () => {
    const off = await createServiceContext(
      testConfig({
        QIANFAN_PAYMENT__SANDBOX__ENABLED: 'false',
        QIANFAN_PAYMENT__PROVIDERS: '',
        QIANFAN_HTTP__MAX_EVENT_LOOP_DELAY_MS: '30000',
      }),
      {
        process: 'restful',
        logger: testLogger,
      },
    );
    const offApp = await buildApp(off);
    try {
      const r = await offApp.inject({ method: 'POST', url: '/v1/sandbox/payments/1/succeed' });
      assert.equal(r.statusCode, 404, r.body);
      const doc = offApp.swagger() as { paths: Record<string, unknown> };
      assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/v1/sandbox')));
    } finally {
      await offApp.close();
      await off.close();
    }
    const on = await app.inject({ method: 'POST', url: '/v1/sandbox/payments/1/succeed' });
    assert.equal(on.statusCode, 404, on.body);
    assert.equal(JSON.parse(on.body).code, 'PAYMENT_NOT_FOUND'); // the route exists here
  });
});

describe('HTTP protection and caching', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig({ QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '3' }), {
      process: 'restful',
      mq: true,
      logger: testLogger,
    });
  });
  after(async () => ctx?.close());

  it('a user over the per-minute limit gets 429 with Retry-After', async () => {
    const app = await buildApp(ctx);
    try {
      const token = await signDevToken(ctx.config.auth, { userId: String(++nextUser), roles: ['user'] }, 600);
      const statuses: number[] = [];
      let last: Awaited<ReturnType<typeof app.inject>> | undefined;
      for (let i = 0; i < 5; i++) {
        last = await app.inject({ method: 'GET', url: '/v1/orders', headers: { authorization: `Bearer ${token}` } });
        statuses.push(last.statusCode);
      }
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      assert.equal(JSON.parse(last!.body).code, 'RATE_LIMITED');
      assert.ok(Number(last!.headers['retry-after']) >= 1);
    } finally {
      await app.close();
    }
  });

  it('counts every /v1 request against its IP (no token, a bad token, a valid one) and valid ones against the user too, in one Redis round trip', async () => {
    const limited = { ...ctx, config: { ...ctx.config, http: { ...ctx.config.http, rateLimitPerIpPerMinute: 5 } } };
    const app = await buildApp(limited);
    try {
      // An address of its own: no other test shares this IP's counter.
      const remoteAddress = `198.51.100.${1 + Math.floor(Math.random() * 250)}`;
      const token = await signDevToken(ctx.config.auth, { userId: String(++nextUser), roles: ['user'] }, 600);
      const get = (authorization?: string) =>
        app.inject({
          method: 'GET',
          url: '/v1/orders',
          remoteAddress,
          headers: authorization ? { authorization } : {},
        });
      const seen: Array<[number, string | undefined, string | undefined]> = [];
      for (const auth of [
        undefined,
        'Bearer not-a-jwt',
        `Bearer ${token}`,
        `Bearer ${token}`,
        `Bearer ${token}`,
        undefined,
      ]) {
        const r = await get(auth);
        seen.push([r.statusCode, JSON.parse(r.body).code, r.headers['x-ratelimit-remaining'] as string | undefined]);
      }
      assert.deepEqual(seen, [
        [401, 'UNAUTHENTICATED', '4'], // IP 1 of 5
        [401, 'UNAUTHENTICATED', '3'], // IP 2
        [200, undefined, '2'], // IP 3, user 1 of 3: the smaller remainder
        [200, undefined, '1'], // IP 4, user 2
        [200, undefined, '0'], // IP 5, user 3: the last allowed
        [429, 'RATE_LIMITED', '0'], // IP 6 of 5: refused before the missing token matters
      ]);
    } finally {
      await app.close();
    }
  });

  it('sheds load with 503 and Retry-After when the event loop lags', async () => {
    const app = await buildApp({
      ...ctx,
      config: { ...ctx.config, http: { ...ctx.config.http, maxEventLoopDelayMs: 50 } },
    });
    try {
      await app.ready();
      const res = await waitFor('a 503 under event-loop pressure', 15_000, async () => {
        const until = Date.now() + 1200;
        while (Date.now() < until) {
          // block the event loop the way a CPU-bound handler would
        }
        await new Promise((r) => setTimeout(r, 5));
        const r = await app.inject({ method: 'GET', url: '/v1/orders' });
        return r.statusCode === 503 ? r : undefined;
      });
      assert.equal(JSON.parse(res.body).code, 'OVERLOADED');
      assert.equal(res.headers['retry-after'], '5');
    } finally {
      await app.close();
    }
  });

  it('does not shed the first requests after a slow start: the startup stall is not event-loop lag', async () => {
    const app = await buildApp({
      ...ctx,
      config: { ...ctx.config, http: { ...ctx.config.http, maxEventLoopDelayMs: 50 } },
    });
    try {
      // Starting blocks the loop for 1.2 s (a loaded host compiling every route's schemas).
      app.register(async () => {
        const until = Date.now() + 1200;
        while (Date.now() < until) {
          // busy
        }
      });
      await app.ready();
      const statuses = new Set<number>();
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        statuses.add((await app.inject({ method: 'GET', url: '/v1/orders' })).statusCode);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual([...statuses], [401]);
    } finally {
      await app.close();
    }
  });

  it('order detail is served from Redis and invalidated by every transition', async () => {
    const { createOrder, cancelOrder, getOrderDetail } = await import('../internal/order/index.js');
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const userId = ++nextUser;
    const { order } = await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address });
    const first = await getOrderDetail(ctx, { orderId: order.id, userId });
    assert.equal(first.order.status, 'PENDING_PAYMENT');
    assert.ok(await ctx.redis.exists(`order:whole:${order.id}`), 'not cached');
    const cached = await getOrderDetail(ctx, { orderId: order.id, userId });
    assert.deepEqual(cached, first);
    assert.equal(typeof cached.order.id, 'bigint');
    assert.ok(cached.order.payDeadline instanceof Date);
    await cancelOrder(ctx, { orderId: order.id, reason: 'USER', actor: { type: 'USER', id: '' }, userId });
    assert.equal((await getOrderDetail(ctx, { orderId: order.id, userId })).order.status, 'CANCELLED');
    await assert.rejects(getOrderDetail(ctx, { orderId: 42n }), /not found/);
    assert.equal(await ctx.redis.get('order:whole:42'), '\u0000nf');
  });
});
