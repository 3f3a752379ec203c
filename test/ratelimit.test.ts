import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { hitAll } from '../internal/ratelimit/index.js';
import { openRedis } from '../internal/svc/redis.js';
import { testConfig } from './helpers/config.js';

describe('fixed-window rate limits against real Redis', () => {
  let redis: Redis;
  before(async () => {
    redis = await openRedis(testConfig().redis);
  });
  after(() => redis?.disconnect());

  it('counts every counter of a request in one command, each against its own limit, with the window expiry', async () => {
    const ip = { key: `ip:${randomUUID()}`, limit: 3 };
    const user = { key: `user:${randomUUID()}`, limit: 2 };
    const now = Date.now();
    const seen = [];
    for (let i = 0; i < 3; i++)
      seen.push((await hitAll(redis, [ip, user], 60_000, now)).map((d) => [d.allowed, d.remaining]));
    assert.deepEqual(seen, [
      [
        [true, 2],
        [true, 1],
      ],
      [
        [true, 1],
        [true, 0],
      ],
      [
        [true, 0],
        [false, 0],
      ],
    ]);
    const [d] = await hitAll(redis, [ip], 60_000, now);
    assert.equal(d?.allowed, false);
    assert.ok(d!.retryAfterSeconds >= 1 && d!.retryAfterSeconds <= 60);
    const ttl = await redis.pttl(`rl:${ip.key}:${Math.floor(now / 60_000)}`);
    assert.ok(ttl > 60_000 && ttl <= 120_000, `the window key expires after two windows (pttl ${ttl})`);
    // The next window starts from zero under its own key.
    const [next] = await hitAll(redis, [ip], 60_000, now + 60_000);
    assert.deepEqual([next?.allowed, next?.remaining], [true, 2]);
  });

  it('still counts after the server lost its scripts (restart, SCRIPT FLUSH)', async () => {
    const c = { key: `ip:${randomUUID()}`, limit: 5 };
    await hitAll(redis, [c], 60_000);
    await redis.script('FLUSH');
    const [d] = await hitAll(redis, [c], 60_000);
    assert.equal(d?.remaining, 3);
  });
});
