import type { Cluster, Redis as SingleRedis } from 'ioredis';

/** One Redis, or Redis Cluster (redis.clusterNodes). */
type Redis = SingleRedis | Cluster;

export interface RateDecision {
  allowed: boolean;
  /** What is left of the limit in this window, as far as this process knows. */
  remaining: number;
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Counts one hit on `key`: allowed while the fleet's hits in this window stay within `limit`. */
  hit(key: string, limit: number, windowMs: number, now?: number): Promise<RateDecision>;
}

interface Lease {
  window: number;
  /** When the window ends (ms since the epoch). */
  ends: number;
  /** Hits this process claimed in Redis and has not used yet. */
  left: number;
  /** The window's counter in Redis after this process's last claim (every process's claims). */
  count: number;
  /** The size of the next claim: 1 for a key's first hit in a window, doubling while the key stays busy. */
  next: number;
  /** When the last claim was made (ms since the epoch). */
  claimedAt: number;
  claiming?: Promise<void>;
}

/**
 * Fixed-window limits shared by every process through one Redis counter per key and window
 * (`rl:<key>:<window number>`), claimed in blocks: a process adds a block of hits to the counter with
 * one INCRBY and spends it locally, so a busy key costs one round trip per block instead of one per
 * request. Never more than `limit` hits are allowed in a window across the fleet: a block is only
 * granted up to the limit. A key's first claim in a window is 1 (a key hit once costs what a plain
 * INCR costs); the next claim doubles when the last block was spent within a second and halves
 * otherwise, up to `maxClaim` and to an eighth of what the counter has left, so near the limit claims
 * are single hits. What a process claimed and did not use by the end of the window is lost to that
 * window (other processes may refuse meanwhile): at most one block per process and key.
 *
 * The window's first claim sets the key's expiry; were that PEXPIRE lost, the next window still starts
 * from zero under a new key. Concurrent hits on one key in one process share one claim. Redis errors
 * reach the caller (who decides whether to let the request through).
 */
export function rateLimiter(redis: Redis, opts: { maxClaim?: number; maxKeys?: number } = {}): RateLimiter {
  const maxClaim = opts.maxClaim ?? 1024;
  const maxKeys = opts.maxKeys ?? 50_000;
  const leases = new Map<string, Lease>();

  const leaseOf = (key: string, windowMs: number, now: number): Lease => {
    const window = Math.floor(now / windowMs);
    const l = leases.get(key);
    if (l && l.window >= window) return l;
    const fresh: Lease = { window, ends: (window + 1) * windowMs, left: 0, count: 0, next: 1, claimedAt: Date.now() };
    leases.delete(key);
    leases.set(key, fresh);
    // Oldest first: drop leases of ended windows, and the oldest ones beyond maxKeys (losing what is
    // left of them, which only ever refuses sooner, never later).
    for (const [k, old] of leases) {
      if (old.ends > now && leases.size <= maxKeys) break;
      leases.delete(k);
    }
    return fresh;
  };

  const claim = async (key: string, l: Lease, limit: number, windowMs: number) => {
    const size = Math.max(1, Math.min(l.next, maxClaim, Math.floor((limit - l.count) / 8)));
    const k = `rl:${key}:${l.window}`;
    const count = await redis.incrby(k, size);
    if (count === size) await redis.pexpire(k, 2 * windowMs);
    l.left += Math.max(0, Math.min(size, limit - (count - size)));
    l.count = Math.max(l.count, count);
    // A block spent within a second calls for a bigger one; a slower key shrinks back towards 1.
    const at = Date.now();
    l.next = at - l.claimedAt <= 1000 ? size * 2 : Math.max(1, size >> 1);
    l.claimedAt = at;
  };

  return {
    async hit(key, limit, windowMs, now = Date.now()) {
      let l = leaseOf(key, windowMs, now);
      const retryAfterSeconds = () => Math.max(1, Math.ceil((l.ends - now) / 1000));
      for (;;) {
        if (l.left > 0) {
          l.left--;
          return {
            allowed: true,
            remaining: Math.max(0, limit - l.count) + l.left,
            retryAfterSeconds: retryAfterSeconds(),
          };
        }
        if (l.count >= limit) return { allowed: false, remaining: 0, retryAfterSeconds: retryAfterSeconds() };
        if (!l.claiming) {
          const lease = l;
          lease.claiming = claim(key, lease, limit, windowMs).finally(() => {
            lease.claiming = undefined;
          });
        }
        await l.claiming;
        // Another hit may have opened a later window meanwhile: count this one there.
        l = leaseOf(key, windowMs, Math.max(now, l.window * windowMs));
      }
    },
  };
}
