import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../../internal/auth/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { buildApp } from '../../restful/app.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';

/** Defects the fuzzers found, each pinned by the smallest request that showed it. */
describe('regressions found by the HTTP fuzzer', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let token: string;
  before(async () => {
    ctx = await createServiceContext(testConfig({ QIANFAN_REDIS__KEY_PREFIX: 'qf:order:test:fuzzreg:' }), {
      process: 'restful',
      mq: false,
      logger: testLogger,
    });
    app = await buildApp(ctx);
    token = await signDevToken(ctx.config.auth, { userId: '4242', roles: ['admin'] }, 600);
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const documented = async (operationId: string) => {
    const doc = JSON.parse((await app.inject({ method: 'GET', url: '/openapi.json' })).body);
    for (const byMethod of Object.values<any>(doc.paths))
      for (const op of Object.values<any>(byMethod))
        if (op.operationId === operationId) return Object.keys(op.responses).map(Number);
    throw new Error(`no operation ${operationId}`);
  };

  it('a body that is not JSON is 415 UNSUPPORTED_MEDIA_TYPE, a documented status, saying what to send', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/orders/1/cancel',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID(), 'content-type': 'application/xml' },
      payload: '<cancel/>',
    });
    assert.equal(res.statusCode, 415);
    const body = JSON.parse(res.body);
    assert.equal(body.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(body.message, /application\/json/);
    assert.ok((await documented('cancelOrder')).includes(415));
    assert.ok(!(await documented('getOrder')).includes(415), 'GET routes parse no body');
  });

  it('a body over the limit is 413 PAYLOAD_TOO_LARGE, documented', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': randomUUID(),
        'content-type': 'application/json',
      },
      payload: JSON.stringify({ note: 'x'.repeat(ctx.config.http.bodyLimitBytes) }),
    });
    assert.equal(res.statusCode, 413);
    assert.equal(JSON.parse(res.body).code, 'PAYLOAD_TOO_LARGE');
    assert.ok((await documented('createOrder')).includes(413));
  });

  it('a path parameter over 100 characters is 400 with the usual error body (was 414 with Fastify’s own body)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/v1/admin/orders/${'x'.repeat(300)}/cancel`,
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
    });
    assert.equal(res.statusCode, 400);
    const body = JSON.parse(res.body);
    assert.equal(body.code, 'VALIDATION_FAILED');
    assert.equal(body.requestId, res.headers['x-request-id']);
  });

  it('a malformed %-escape in the path is 400 with the usual error body', async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/v1/orders/%E0%A4%A',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(JSON.parse(res.body).code, 'VALIDATION_FAILED');
  });
});
