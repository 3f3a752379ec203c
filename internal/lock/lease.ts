import { randomUUID } from 'node:crypto';
import type { Cluster, Redis as SingleRedis } from 'ioredis';

/** One Redis, or Redis Cluster (redis.clusterNodes). */
type Redis = SingleRedis | Cluster;

import { luaScript } from '../cache/index.js';

const RENEW = luaScript(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`,
);
const RELEASE = luaScript(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`,
);

export interface Lease {
  /** Set when a renewal found the lease taken or expired (Redis unreachable for a whole TTL). */
  readonly lost: boolean;
}

/**
 * Runs `fn` under a Redis lease `lock:<name>` that is renewed every ttl/3 while `fn` runs and released
 * when it ends. A holder that dies stops renewing, so its lease expires after at most `ttlMs` and another
 * instance can take over. Returns `acquired: false` without running `fn` when someone else holds it.
 */
export async function withLease<T>(
  redis: Redis,
  name: string,
  ttlMs: number,
  fn: (lease: Lease) => Promise<T>,
): Promise<{ acquired: false } | { acquired: true; value: T; lost: boolean }> {
  const key = `lock:${name}`;
  const token = randomUUID();
  if ((await redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') return { acquired: false };
  const state = { lost: false };
  const timer = setInterval(
    () => {
      RENEW.run(redis, [key], [token, ttlMs]).then(
        (ok) => {
          if (ok !== 1) state.lost = true;
        },
        () => {}, // a failed renewal is retried at the next interval; the TTL covers two misses
      );
    },
    Math.max(50, Math.floor(ttlMs / 3)),
  );
  timer.unref();
  try {
    const value = await fn(state);
    return { acquired: true, value, lost: state.lost };
  } finally {
    clearInterval(timer);
    await RELEASE.run(redis, [key], [token]).catch(() => {});
  }
}
