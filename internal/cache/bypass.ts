import calculateSlot from 'cluster-key-slot';
import { Cluster } from 'ioredis';

/**
 * Redis on a request path is an accelerator: once a call to it failed or timed out, the callers that can
 * do without it (caches, the rate limiter, flash-sale admission) skip it for a moment instead of each
 * waiting for its own timeout. Per Redis client (one per process); invalidations and writes that must
 * happen still try.
 *
 * On a Redis Cluster, a call that names its key is judged by the master serving that key's slot: a
 * failed or stalled master sends only its own keys' callers to MySQL (or answers 503), while keys on the
 * healthy masters keep their cache and their purchases. Without a key, or on one Redis, the whole client.
 */
const until = new WeakMap<object, Map<string, number>>();

/** How long request paths go without Redis after a failure. */
export const REDIS_BYPASS_MS = 2000;

const WHOLE = '*';

/** The part of Redis that `key` lives on: the master serving its slot on a cluster, else the whole client. */
function scopeOf(redis: object, key: string | undefined): string {
  if (key === undefined || !(redis instanceof Cluster)) return WHOLE;
  const slot = calculateSlot(`${redis.options.keyPrefix ?? ''}${key}`);
  return redis.slots[slot]?.[0] ?? WHOLE;
}

/**
 * Records a failed call (on `key`'s master, on a cluster): for the next REDIS_BYPASS_MS `redisBypassed`
 * is true there. Returns whether it already was.
 */
export function markRedisFailed(redis: object, key?: string, now = Date.now()): boolean {
  const was = redisBypassed(redis, key, now);
  const scopes = until.get(redis) ?? new Map<string, number>();
  until.set(redis, scopes);
  scopes.set(scopeOf(redis, key), now + REDIS_BYPASS_MS);
  return was;
}

export function redisBypassed(redis: object, key?: string, now = Date.now()): boolean {
  const scopes = until.get(redis);
  if (!scopes) return false;
  if ((scopes.get(WHOLE) ?? 0) > now) return true;
  return key !== undefined && (scopes.get(scopeOf(redis, key)) ?? 0) > now;
}
