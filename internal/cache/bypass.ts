/**
 * Redis on a request path is an accelerator: once a call to it failed or timed out, the callers that can
 * do without it (caches, the rate limiter) skip it for a moment instead of each waiting for its own
 * timeout. Per Redis client (one per process); invalidations and writes that must happen still try.
 */
const until = new WeakMap<object, number>();

/** How long request paths go without Redis after a failure. */
export const REDIS_BYPASS_MS = 2000;

/** Records a failed call: for the next REDIS_BYPASS_MS `redisBypassed` is true. Returns whether it was already. */
export function markRedisFailed(redis: object, now = Date.now()): boolean {
  const was = redisBypassed(redis, now);
  until.set(redis, now + REDIS_BYPASS_MS);
  return was;
}

export function redisBypassed(redis: object, now = Date.now()): boolean {
  return (until.get(redis) ?? 0) > now;
}
