import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { hit } from '../internal/ratelimit/index.js';
import { openRedis } from '../internal/svc/redis.js';
import { testConfig } from './helpers/config.js';

describe('fixed-window rate limits against real Redis', () => {
  let redis: Redis;
  before(async () => {
    redis = await openRedis(testConfig().redis);
  });
  after(() => redis?.disconnect());

  it('counts each key against its limit within a window, which expires by itself and restarts from zero', async () => {
    const key = `ip:${randomUUID()}`;
    const now = Date.now();
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const d = await hit(redis, key, 3, 60_000, now);
      seen.push([d.allowed, d.remaining]);
    }
    assert.deepEqual(seen, [
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    const refused = await hit(redis, key, 3, 60_000, now);
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    const ttl = await redis.pttl(`rl:${key}:${Math.floor(now / 60_000)}`);
    assert.ok(ttl > 60_000 && ttl <= 120_000, `the window's first hit set its expiry (pttl ${ttl})`);
    const next = await hit(redis, key, 3, 60_000, now + 60_000);
    assert.deepEqual([next.allowed, next.remaining], [true, 2]);
  });
});
