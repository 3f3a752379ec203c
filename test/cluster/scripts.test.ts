import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { luaScript } from '../../internal/cache/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';

// Run by deploy/local/test.sh's cluster phase (QIANFAN_REDIS__CLUSTER_NODES names the local cluster).
const SEEDS = process.env.QIANFAN_REDIS__CLUSTER_NODES ?? '';

const INCR_BOTH = luaScript(`redis.call('INCR', KEYS[1]); return redis.call('INCRBY', KEYS[2], ARGV[1])`);

describe('Redis Cluster: scripts and plain commands issued in one tick across every master', () => {
  let ctx: ServiceContext;
  const prefix = `qf:order:test:cluster-scripts:${Date.now()}:`;

  before(async () => {
    assert.ok(SEEDS, 'set QIANFAN_REDIS__CLUSTER_NODES (bash deploy/local/redis-cluster.sh up; it prints the value)');
    ctx = await createServiceContext(testConfig({ QIANFAN_REDIS__KEY_PREFIX: prefix }), {
      process: 'restful',
      logger: testLogger,
    });
  });
  after(async () => {
    await ctx?.close();
  });

  it('1,000 scripts on tags spread over all slots, mixed with GET/INCR, all succeed with exact counts', async () => {
    // Tags chosen so that keys land on every master: the autopipeline must not group scripts by their SHA.
    const tags = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const masters = new Set(
      tags.map((t) =>
        Number(
          execFileSync('redis-cli', [
            '-p',
            SEEDS.split(',')[0]!.split(':')[1]!,
            'cluster',
            'keyslot',
            `${prefix}{${t}}:a`,
          ]),
        ),
      ),
    );
    assert.ok(masters.size > 10, 'the tags spread over many slots');
    const calls: Array<Promise<unknown>> = [];
    for (let round = 0; round < 20; round++) {
      for (const t of tags) {
        calls.push(INCR_BOTH.run(ctx.redis, [`{${t}}:a`, `{${t}}:b`], [2]));
        calls.push(ctx.redis.incr(`{${t}}:plain`));
        calls.push(ctx.redis.get(`{${t}}:a`));
      }
    }
    const results = await Promise.allSettled(calls);
    const failed = results.filter((r) => r.status === 'rejected');
    assert.equal(
      failed.length,
      0,
      `failed: ${failed.slice(0, 3).map((r) => String((r as PromiseRejectedResult).reason))}`,
    );
    for (const t of tags) {
      assert.equal(await ctx.redis.get(`{${t}}:a`), '20');
      assert.equal(await ctx.redis.get(`{${t}}:b`), '40');
      assert.equal(await ctx.redis.get(`{${t}}:plain`), '20');
    }
  });
});
