import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { rateLimiter } from '../internal/ratelimit/index.js';
import type { RedisClient as Redis } from '../internal/svc/index.js';
import { openRedis } from '../internal/svc/redis.js';
import { testConfig } from './helpers/config.js';
import { countingRedis } from './helpers/redis.js';
import { waitFor } from './helpers/wait.js';

describe('rate limits against real Redis, claimed in blocks', () => {
  let redis: Redis;
  before(async () => {
    redis = await openRedis(testConfig().redis);
  });
  after(() => redis?.disconnect());

  it('counts each key against its limit within a window, which expires by itself and restarts from zero', async () => {
    const limiter = rateLimiter(redis);
    const key = `ip:${randomUUID()}`;
    const now = Date.now();
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const d = await limiter.hit(key, 3, 60_000, now);
      seen.push([d.allowed, d.remaining]);
    }
    assert.deepEqual(seen, [
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    const refused = await limiter.hit(key, 3, 60_000, now);
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60);
    const k = `rl:${key}:${Math.floor(now / 60_000)}`;
    assert.equal(await redis.get(k), '3', 'near a small limit every claim is a single hit');
    const ttl = await redis.pttl(k);
    assert.ok(ttl > 60_000 && ttl <= 120_000, `the window's first claim set its expiry (pttl ${ttl})`);
    const next = await limiter.hit(key, 3, 60_000, now + 60_000);
    assert.deepEqual([next.allowed, next.remaining], [true, 2]);
  });

  it('a busy key makes one round trip per block, and a key hit once claims one hit', async () => {
    const { redis: spy, calls } = countingRedis(redis);
    const limiter = rateLimiter(spy, { maxClaim: 16 });
    const key = `user:${randomUUID()}`;
    const now = Date.now();
    for (let i = 0; i < 1000; i++) assert.equal((await limiter.hit(key, 1_000_000, 60_000, now)).allowed, true);
    // Claims of 1, 2, 4, 8, then 16 each: 4 + ceil((1000 - 15) / 16) = 66.
    assert.equal(calls('incrby'), 66);
    const counted = Number(await redis.get(`rl:${key}:${Math.floor(now / 60_000)}`));
    assert.ok(
      counted >= 1000 && counted < 1000 + 16,
      `Redis holds the hits plus at most one unused block (${counted})`,
    );

    const once = `user:${randomUUID()}`;
    await limiter.hit(once, 300, 60_000, now);
    assert.equal(await redis.get(`rl:${once}:${Math.floor(now / 60_000)}`), '1');
  });

  it('concurrent hits in one process share one claim', async () => {
    const { redis: spy, calls } = countingRedis(redis);
    const limiter = rateLimiter(spy);
    const key = `ip:${randomUUID()}`;
    const decisions = await Promise.all(Array.from({ length: 20 }, () => limiter.hit(key, 1_000_000, 60_000)));
    assert.ok(decisions.every((d) => d.allowed));
    // 20 hits waiting together: claims of 1, 2, 4, 8, 16 at most, one at a time.
    assert.ok(calls('incrby') <= 5, `${calls('incrby')} claims`);
  });

  it('never allows more than the limit across processes, and spends what each claimed', async () => {
    const key = `user:${randomUUID()}`;
    const limit = 500;
    const now = Date.now();
    // Four processes' limiters on one Redis, each hammered by 8 concurrent callers until refused.
    const allowed = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const limiter = rateLimiter(redis, { maxClaim: 32 });
        let ok = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (;;) {
              const d = await limiter.hit(key, limit, 60_000, now);
              if (!d.allowed) return;
              ok++;
            }
          }),
        );
        return ok;
      }),
    );
    assert.equal(
      allowed.reduce((a, b) => a + b, 0),
      limit,
    );
    assert.ok(
      allowed.every((n) => n > 0),
      `every process got a share: ${allowed}`,
    );
    assert.ok(Number(await redis.get(`rl:${key}:${Math.floor(now / 60_000)}`)) >= limit);
  });

  it('reports Redis errors to the caller, and claims again once Redis answers', async () => {
    const broken = await openRedis(testConfig().redis);
    const limiter = rateLimiter(broken);
    const key = `ip:${randomUUID()}`;
    broken.disconnect();
    await assert.rejects(limiter.hit(key, 10, 60_000));
    await waitFor('the connection to close', 5000, () => broken.status === 'end');
    // A cluster client may refuse the first connect right after its close ("None of startup nodes is
    // available") while its old connections finish closing: connect again until it is up.
    await waitFor('the client to connect again', 10_000, async () => {
      if (broken.status === 'end' || broken.status === 'wait') await broken.connect().catch(() => undefined);
      return broken.status === 'ready';
    });
    try {
      const d = await limiter.hit(key, 10, 60_000);
      assert.deepEqual([d.allowed, d.remaining], [true, 9]);
    } finally {
      broken.disconnect();
    }
  });
});
