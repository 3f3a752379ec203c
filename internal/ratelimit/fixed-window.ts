import { hash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/** One counter of a request: at most `limit` hits per window for `key`. */
export interface Counter {
  key: string;
  limit: number;
}

// KEYS: the counters' keys for this window. ARGV[1]: their expiry (ms). Returns each key's count.
const SCRIPT = `local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
end
return counts`;
const SHA = hash('sha1', SCRIPT, 'hex');

/**
 * Fixed-window counters in Redis: at most `limit` hits per `windowMs` per key. Each window has its own
 * key (`rl:<key>:<window number>`), so a window starts from zero by itself. All of a request's counters
 * are counted by one script call (one command, one round trip): each key's INCR, and on the window's
 * first hit its expiry, in one atomic step.
 */
export async function hitAll(
  redis: Redis,
  counters: Counter[],
  windowMs: number,
  now = Date.now(),
): Promise<RateDecision[]> {
  const window = Math.floor(now / windowMs);
  const keys = counters.map((c) => `rl:${c.key}:${window}`);
  const counts = (await evalScript(redis, keys, 2 * windowMs)) as number[];
  const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
  return counters.map((c, i) => {
    const count = counts[i] ?? 0;
    return { allowed: count <= c.limit, remaining: Math.max(0, c.limit - count), retryAfterSeconds };
  });
}

/** EVALSHA, and EVAL once when the server does not have the script yet (a restart, SCRIPT FLUSH). */
async function evalScript(redis: Redis, keys: string[], expiryMs: number): Promise<unknown> {
  try {
    return await redis.evalsha(SHA, keys.length, ...keys, expiryMs);
  } catch (err) {
    if (!(err as Error).message?.startsWith('NOSCRIPT')) throw err;
    return redis.eval(SCRIPT, keys.length, ...keys, expiryMs);
  }
}
