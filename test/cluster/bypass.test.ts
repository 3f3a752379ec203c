import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cacheAside, markRedisFailed, redisBypassed } from '../../internal/cache/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';
import { masterPid, servingOf } from '../helpers/redis-cluster.js';
import { sleep } from '../helpers/wait.js';

// Run by deploy/local/test.sh's cluster phase (QIANFAN_REDIS__CLUSTER_NODES names the local cluster).
const SEEDS = process.env.QIANFAN_REDIS__CLUSTER_NODES ?? '';

describe('Redis Cluster: the bypass after a failed call covers only the failing master', () => {
  let ctx: ServiceContext;
  const prefix = `qf:order:test:cluster-bypass:${Date.now()}:`;

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

  /** Two keys of the cache on different masters. */
  function keysOnTwoMasters() {
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < 2; i++) {
      const key = `k${i}`;
      byMaster.set(servingOf(`${prefix}c:${key}`).master.port, key);
    }
    const [[stalledPort, stalledKey], [, healthyKey]] = [...byMaster.entries()] as [[number, string], [number, string]];
    return { stalledPort, stalledKey: stalledKey, healthyKey };
  }

  it('a master stalled past the command timeout sends its keys to the source; keys on other masters still hit', async () => {
    const results: string[] = [];
    const cache = cacheAside<{ v: number }>(ctx.redis, {
      prefix: 'c:',
      ttlSeconds: 60,
      jitterSeconds: 0,
      notFoundTtlSeconds: 5,
      encode: JSON.stringify,
      decode: JSON.parse,
      versionOf: (d) => d.v,
      onResult: (r) => results.push(r),
    });
    const { stalledPort, stalledKey, healthyKey } = keysOnTwoMasters();
    const load = async () => ({ v: 1 });
    // Fill both keys, then read them once from Redis.
    await cache.get(stalledKey, load);
    await cache.get(healthyKey, load);
    await sleep(100);
    results.length = 0;
    await cache.get(healthyKey, load);
    assert.deepEqual(results, ['hit']);

    // Stall the master of one key for less than cluster-node-timeout (no failover): its read times out.
    const pid = masterPid(stalledPort);
    process.kill(pid, 'SIGSTOP');
    try {
      results.length = 0;
      const started = Date.now();
      assert.deepEqual(await cache.get(stalledKey, load), { v: 1 }, 'the source answers for the stalled key');
      assert.ok(Date.now() - started < ctx.config.redis.commandTimeoutMs + 500);
      assert.ok(redisBypassed(ctx.redis, `c:${stalledKey}`), 'the stalled master is bypassed');
      assert.ok(!redisBypassed(ctx.redis, `c:${healthyKey}`), 'the healthy master is not');
      // The next read of the stalled key does not wait again; the healthy key is still served by Redis.
      const again = Date.now();
      await cache.get(stalledKey, load);
      assert.ok(Date.now() - again < 100, 'a bypassed read waited for Redis');
      await cache.get(healthyKey, load);
      assert.deepEqual(results, ['error', 'error', 'hit']);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('a failure recorded without a key bypasses the whole client', () => {
    const other = {};
    const now = Date.now();
    assert.equal(markRedisFailed(ctx.redis, undefined, now), false);
    assert.ok(redisBypassed(ctx.redis, 'any-key', now + 10));
    assert.ok(!redisBypassed(ctx.redis, 'any-key', now + 2100));
    assert.ok(!redisBypassed(other, 'any-key', now + 10), 'another client is not affected');
  });
});
