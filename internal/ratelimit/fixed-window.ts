import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/**
 * Fixed-window counter in Redis: at most `limit` hits per `windowMs` per key. Each window has its own
 * key (`rl:<key>:<window number>`), so a hit is one INCR; the key's expiry is set by the window's first
 * hit. Were that PEXPIRE ever lost, the next window still starts from zero under a new key (only the
 * old key lingers), so nobody is locked out.
 */
export async function hit(
  redis: Redis,
  key: string,
  limit: number,
  windowMs: number,
  now = Date.now(),
): Promise<RateDecision> {
  const window = Math.floor(now / windowMs);
  const k = `rl:${key}:${window}`;
  const count = await redis.incr(k);
  if (count === 1) await redis.pexpire(k, 2 * windowMs);
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    retryAfterSeconds: Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000)),
  };
}
