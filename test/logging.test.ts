import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { signDevToken } from '../internal/auth/index.js';
import { AppError } from '../internal/errorx/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { createLogger } from '../internal/telemetry/index.js';
import { buildApp } from '../restful/app.js';
import { installErrorHandler } from '../restful/errors.js';
import { testConfig } from './helpers/config.js';

/** A logger whose JSON lines land in an array. */
function capture(level = 'info') {
  const lines: Array<Record<string, any>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'qianfan-order', process: 'restful', level, stream }) };
}

describe('logs', () => {
  it('deploy/logging: Filebeat and SLS read the JSON lines as JSON, from the four processes', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const filebeat = parse(readFileSync(path.join(root, 'deploy/logging/filebeat.yml'), 'utf8'));
    const input = filebeat['filebeat.inputs'][0];
    assert.match(input.paths[0], /qianfan-order-\*\.log$/);
    const ndjson = input.parsers.find((p: Record<string, unknown>) => p.ndjson)?.ndjson;
    assert.equal(ndjson?.target, '', 'fields at the top level');
    assert.equal(ndjson?.message_key, 'msg', 'pino writes the message as msg');
    assert.ok(filebeat['output.elasticsearch'].index.startsWith('qianfan-order-'));
    const sls = parse(readFileSync(path.join(root, 'deploy/logging/sls-logtail.yaml'), 'utf8'));
    assert.ok(sls.processors.some((p: { Type: string }) => p.Type === 'processor_parse_json_native'));
    assert.match(sls.inputs[0].ContainerFilters.K8sContainerRegex, /restful\|service\|consumer\|job/);
    assert.equal(sls.flushers[0].Type, 'flusher_sls');
  });

  it('credentials, signatures and personal data are redacted wherever they appear', () => {
    const { lines, logger } = capture();
    logger.info(
      {
        token: 'eyJ.secret.token',
        password: 'p',
        signature: 'sha256=abc',
        config: { jwtSecret: 'j', webhookSecret: 'w', serviceTokens: ['s'] },
        req: { headers: { authorization: 'Bearer x', 'x-qf-signature': 'sha256=def', cookie: 'c=1' } },
        address: { name: 'Li Lei', phone: '13800000000', city: 'Hangzhou', detail: '1 Longjing Rd' },
        order: { address: { phone: '13900000000', detail: '2 Wensan Rd', city: 'Hangzhou' } },
        input: { order: { address: { phone: '13700000000', detail: '3 Rd' } } },
      },
      'something happened',
    );
    const line = JSON.stringify(lines[0]);
    for (const secret of [
      'eyJ.secret.token',
      'sha256=',
      'Bearer x',
      '1380000',
      '1390000',
      'Longjing',
      'Wensan',
      'c=1',
    ]) {
      assert.ok(!line.includes(secret), `${secret} leaked: ${line}`);
    }
    assert.equal(lines[0]?.address.city, 'Hangzhou', 'non-personal fields stay');
    assert.equal(lines[0]?.config.jwtSecret, '[redacted]');
    assert.ok(!line.includes('"p"'));
  });

  it('a failed request logs at error when the fault is ours (500), at warn when a dependency is unavailable (503)', async () => {
    const { lines, logger } = capture('info');
    const app = Fastify({ loggerInstance: logger as FastifyBaseLogger });
    installErrorHandler(app);
    app.get('/bug', async () => {
      throw new TypeError('undefined is not a function');
    });
    app.get('/down', async () => {
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'MySQL did not answer in time; retry');
    });
    try {
      assert.equal((await app.inject({ method: 'GET', url: '/bug' })).statusCode, 500);
      assert.equal((await app.inject({ method: 'GET', url: '/down' })).statusCode, 503);
    } finally {
      await app.close();
    }
    const failed = lines.filter((l) => l.msg === 'request failed');
    assert.deepEqual(
      failed.map((l) => [l.level, l.err?.message]),
      [
        ['error', 'undefined is not a function'],
        ['warn', 'MySQL did not answer in time; retry'],
      ],
    );
  });

  describe('request logs (real MariaDB, Redis)', () => {
    let ctx: ServiceContext;
    let app: FastifyInstance;
    const { lines, logger } = capture('info');
    before(async () => {
      ctx = await createServiceContext(testConfig(), { process: 'restful', mq: false, logger });
      app = await buildApp(ctx);
    });
    after(async () => {
      await app?.close();
      await ctx?.close();
    });

    it('every line of a traced request carries trace_id, span_id and the request id; the token does not appear', async () => {
      const token = await signDevToken(ctx.config.auth, { userId: '4242', roles: ['user'] }, 600);
      const traceId = randomUUID().replaceAll('-', '');
      const requestId = `req-${randomUUID()}`;
      const res = await app.inject({
        method: 'GET',
        url: '/v1/orders/1',
        headers: {
          authorization: `Bearer ${token}`,
          traceparent: `00-${traceId}-${'d'.repeat(16)}-01`,
          'x-request-id': requestId,
        },
      });
      assert.equal(res.statusCode, 404);
      const mine = lines.filter((l) => l.reqId === requestId);
      assert.ok(mine.length >= 1, `expected the request's log lines, got ${JSON.stringify(lines)}`);
      assert.ok(
        mine.some((l) => l.msg === 'request completed' && l.statusCode === 404 && l.route === '/v1/orders/:id'),
      );
      for (const l of mine) {
        assert.equal(l.trace_id, traceId, JSON.stringify(l));
        assert.match(l.span_id, /^[0-9a-f]{16}$/);
      }
      assert.ok(!JSON.stringify(lines).includes(token), 'the bearer token reached the logs');
    });

    it('health polls are not logged at info', async () => {
      const before = lines.length;
      for (const url of ['/healthz', '/readyz']) await app.inject({ method: 'GET', url });
      assert.deepEqual(
        lines.slice(before).filter((l) => /healthz|readyz/.test(JSON.stringify(l))),
        [],
      );
    });
  });
});
