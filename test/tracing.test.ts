import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import { jobNamed, runJob } from '../internal/jobs/index.js';
import type { ConsumerLoop } from '../internal/mq/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { startPaymentConsumer } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { waitFor } from './helpers/wait.js';

// OpenTelemetry with an in-memory exporter: one trace from the HTTP request through RocketMQ to the consumer.
describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let loop: ConsumerLoop;
  before(async () => {
    ctx = await createServiceContext(testConfig(), {
      process: 'restful',
      mq: true,
      logger: testLogger,
      spanExporter: exporter,
    });
    app = await buildApp(ctx);
    loop = await startPaymentConsumer(ctx);
  });
  after(async () => {
    await loop?.stop();
    await app?.close();
    await ctx?.close();
  });

  it('an HTTP request continues the caller trace, and the consumer span of its message joins it', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const token = await signDevToken(ctx.config.auth, { userId: '777001', roles: ['user'] }, 600);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const created = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    const orderId = created.json().id as string;
    const pay = await app.inject({
      method: 'POST',
      url: `/v1/orders/${orderId}/payments`,
      headers: { ...headers, 'idempotency-key': randomUUID() },
    });
    const traceId = 'a'.repeat(16) + randomUUID().replaceAll('-', '').slice(0, 16);
    const res = await app.inject({
      method: 'POST',
      url: `/v1/sandbox/payments/${pay.json().id}/succeed`,
      headers: { traceparent: `00-${traceId}-${'b'.repeat(16)}-01` },
    });
    assert.equal(res.statusCode, 202, `${created.body} | ${pay.body} | ${res.body}`);
    assert.equal(res.headers['x-trace-id'], traceId);
    const server = exporter.getFinishedSpans().find((s) => s.name === 'POST /v1/sandbox/payments/:id/:outcome');
    assert.equal(server?.spanContext().traceId, traceId);
    const consumed = await waitFor('the consumer span in the same trace', 30_000, () =>
      exporter
        .getFinishedSpans()
        .find((s) => s.name === 'consume payment_notify' && s.spanContext().traceId === traceId),
    );
    assert.equal(consumed.attributes['messaging.consumer.group.name'], 'qianfan-order-payment');
  });

  it('SQL statements and Redis commands are client spans of the request, without the values', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const token = await signDevToken(ctx.config.auth, { userId: '777002', roles: ['user'] }, 600);
    const traceId = randomUUID().replaceAll('-', '');
    const created = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        traceparent: `00-${traceId}-${'d'.repeat(16)}-01`,
      },
      payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    assert.equal(created.statusCode, 201, created.body);
    const inTrace = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const server = inTrace.find((s) => s.name === 'POST /v1/orders');
    assert.ok(server, inTrace.map((s) => s.name).join(', '));
    const sqlSpans = inTrace.filter((s) => s.name.startsWith('mysql '));
    const redisSpans = inTrace.filter((s) => s.name.startsWith('redis '));
    assert.ok(
      sqlSpans.some((s) => s.name === 'mysql INSERT'),
      sqlSpans.map((s) => s.name).join(', '),
    );
    assert.ok(redisSpans.length > 0, 'the rate limit and cache commands are traced');
    for (const s of [...sqlSpans, ...redisSpans]) {
      assert.equal(s.kind, 2, `${s.name} is a CLIENT span`);
      assert.equal(s.attributes['db.system.name'], s.name.startsWith('mysql') ? 'mysql' : 'redis');
      const text = JSON.stringify(s.attributes);
      assert.ok(
        !text.includes(address.detail) && !text.includes(address.phone),
        `${s.name} carries no values: ${text}`,
      );
    }
  });

  it("Jaeger's uber-trace-id is continued like traceparent (short ids zero-padded)", async () => {
    const short = randomUUID().replaceAll('-', '').slice(0, 16);
    const res = await app.inject({
      method: 'GET',
      url: '/openapi.json',
      headers: { 'uber-trace-id': `${short}:${'c'.repeat(16)}:0:1` },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-trace-id'], short.padStart(32, '0'));
    const bad = await app.inject({ method: 'GET', url: '/openapi.json', headers: { 'uber-trace-id': 'nonsense' } });
    assert.notEqual(bad.headers['x-trace-id'], short.padStart(32, '0'));
  });

  it('a job run is a span of its own', async () => {
    const run = await runJob(ctx, jobNamed('close-expired-orders')!);
    assert.equal(run.status, 'ok');
    const span = exporter.getFinishedSpans().find((s) => s.name === 'job close-expired-orders');
    assert.equal(span?.attributes['qianfan.job'], 'close-expired-orders');
  });
});
