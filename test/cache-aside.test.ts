import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { cacheAside } from '../internal/cache/index.js';
import type { RedisClient as Redis } from '../internal/svc/index.js';
import { openRedis } from '../internal/svc/redis.js';
import { testConfig } from './helpers/config.js';
import { countingRedis } from './helpers/redis.js';

type Doc = { v: number; body: string };

describe('cache-aside with decoded values remembered per fill, against real Redis', () => {
  let redis: Redis;
  before(async () => {
    redis = await openRedis(testConfig().redis);
  });
  after(() => redis?.disconnect());

  const cacheOn = (r: Redis, prefix: string) =>
    cacheAside<Doc>(r, {
      prefix,
      ttlSeconds: 60,
      jitterSeconds: 0,
      notFoundTtlSeconds: 5,
      encode: JSON.stringify,
      decode: JSON.parse,
      versionOf: (d) => d.v,
      decodedMemo: 10,
    });

  it('serves the remembered value while Redis holds the same fill, reading only its head', async () => {
    const prefix = `test:memo:${randomUUID()}:`;
    const { redis: spy, calls, reset } = countingRedis(redis);
    const mine = cacheOn(spy, prefix);
    const other = cacheOn(redis, prefix); // another process
    const never = async (): Promise<Doc> => assert.fail('must not load');

    assert.deepEqual(await mine.get('k', async () => ({ v: 1, body: 'one' })), { v: 1, body: 'one' });
    const first = await mine.get('k', never);
    assert.ok(Object.isFrozen(first));
    reset();
    assert.equal(await mine.get('k', never), first, 'the same object, not decoded again');
    assert.equal(await mine.get('k', never), first);
    assert.deepEqual([calls('get'), calls('getrange')], [0, 2], 'only the head was read');

    // The other process changes the value to version 2 and refills it.
    await other.invalidate('k', 2);
    assert.deepEqual(await other.get('k', async () => ({ v: 2, body: 'two' })), { v: 2, body: 'two' });
    assert.deepEqual(await mine.get('k', never), { v: 2, body: 'two' });

    // The same version filled again (after an invalidation without a version): a new fill, read whole.
    const second = await mine.get('k', never);
    await other.invalidate('k');
    assert.deepEqual(await other.get('k', async () => ({ v: 2, body: 'two, again' })), { v: 2, body: 'two, again' });
    const third = await mine.get('k', never);
    assert.notEqual(third, second);
    assert.deepEqual(third, { v: 2, body: 'two, again' });

    // A value written without a fill tag is served, read whole every time.
    await redis.set(`${prefix}k`, `v3|${JSON.stringify({ v: 3, body: 'untagged' })}`);
    reset();
    assert.deepEqual(await mine.get('k', never), { v: 3, body: 'untagged' });
    assert.deepEqual(await mine.get('k', never), { v: 3, body: 'untagged' });
    assert.equal(calls('get'), 2);

    // Gone from Redis: loaded again.
    await redis.del(`${prefix}k`);
    assert.deepEqual(await mine.get('k', async () => ({ v: 4, body: 'reloaded' })), { v: 4, body: 'reloaded' });
  });

  it('a read that begins after a change was invalidated never joins a load begun before it', async () => {
    const prefix = `test:join:${randomUUID()}:`;
    const reader = cacheOn(redis, prefix); // the process serving reads
    const writer = cacheOn(redis, prefix); // another process changing the row
    let release!: () => void;
    const slowOld = new Promise<Doc>((resolve) => {
      release = () => resolve({ v: 1, body: 'before the change' });
    });
    const before = reader.get('k', () => slowOld); // read the row before the change, slowly
    await new Promise((r) => setTimeout(r, 50));
    await writer.invalidate('k', 2); // the change to version 2 commits and invalidates
    let loads = 0;
    const afterChange = reader.get('k', async () => {
      loads++;
      return { v: 2, body: 'after the change' };
    });
    assert.deepEqual(await afterChange, { v: 2, body: 'after the change' });
    assert.equal(loads, 1, 'the read after the change joined the older load');
    release();
    assert.deepEqual(await before, { v: 1, body: 'before the change' });
    // The late fill of version 1 is refused: version 2 stays cached.
    assert.deepEqual(await reader.get('k', async () => assert.fail('must be cached')), {
      v: 2,
      body: 'after the change',
    });
    // Misses that see the same thing still share one load.
    let shared = 0;
    const load = async () => {
      shared++;
      await new Promise((r) => setTimeout(r, 30));
      return { v: 1, body: 'x' };
    };
    await Promise.all([reader.get('other', load), reader.get('other', load), reader.get('other', load)]);
    assert.equal(shared, 1);
  });
});
