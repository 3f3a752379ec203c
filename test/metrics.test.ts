import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { promtoolLint } from './helpers/promtool.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const promtool = (...args: string[]) =>
  spawnSync('promtool', args, { cwd: path.join(root, 'deploy/prometheus'), encoding: 'utf8' });

describe('metrics and alerts', () => {
  it('deploy/prometheus: promtool checks the scrape config and the rules, and the rules unit tests pass', () => {
    for (const args of [
      ['check', 'config', 'prometheus.yml'],
      ['check', 'rules', 'alerts.yml'],
      ['test', 'rules', 'alerts.test.yml'],
    ]) {
      const r = promtool(...args);
      assert.equal(r.status, 0, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
    }
  });

  describe('RED and business metrics of a request (real MariaDB, Redis, RocketMQ)', () => {
    let ctx: ServiceContext;
    let app: FastifyInstance;
    before(async () => {
      ctx = await createServiceContext(testConfig(), { process: 'restful', mq: true, logger: testLogger });
      app = await buildApp(ctx);
    });
    after(async () => {
      await app?.close();
      await ctx?.close();
    });

    it('a create and two reads show in the HTTP histogram, the order counter and the cache counter', async () => {
      const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
      const token = await signDevToken(ctx.config.auth, { userId: String(Date.now()), roles: ['user'] }, 600);
      const headers = { authorization: `Bearer ${token}` };
      const created = await app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...headers, 'idempotency-key': randomUUID() },
        payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
      });
      assert.equal(created.statusCode, 201);
      for (let i = 0; i < 2; i++) {
        const r = await app.inject({ method: 'GET', url: `/v1/orders/${created.json().id}`, headers });
        assert.equal(r.statusCode, 200);
      }
      assert.equal((await app.inject({ method: 'GET', url: '/v1/orders/1', headers })).statusCode, 404);
      const text = await ctx.metrics.metrics();
      // The value of the series of `name` whose labels include all of `labels` (in any order).
      const value = (name: string, labels: Record<string, string>) => {
        const line = text
          .split('\n')
          .find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
        return Number(line?.split(' ').at(-1) ?? Number.NaN);
      };
      const http = 'qianfan_http_request_duration_seconds_count';
      assert.ok(value(http, { route: '/v1/orders/:id', method: 'GET', status: '200' }) >= 2);
      assert.ok(value(http, { route: '/v1/orders/:id', method: 'GET', status: '404' }) >= 1);
      assert.ok(value(http, { route: '/v1/orders', method: 'POST', status: '201' }) >= 1);
      assert.ok(value('qianfan_orders_created_total', { source: 'APP' }) >= 1);
      assert.ok(value('qianfan_cache_requests_total', { cache: 'order_detail', result: 'hit' }) >= 1);
      assert.ok(value('qianfan_db_pool_connections', { state: 'idle' }) >= 0);
      const lint = promtoolLint(text);
      assert.ok(lint.ok, lint.output);
    });
  });
});
