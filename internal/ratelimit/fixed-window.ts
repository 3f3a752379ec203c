import type { Redis } from 'ioredis';
import { luaScript } from '../cache/index.js';

const SCRIPT = luaScript(`local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`);

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  retryAfterSeconds: number;
}

/** Fixed-window counter in Redis (one Lua call, atomic): at most `limit` hits per `windowMs` per key. */
export async function hit(redis: Redis, key: string, limit: number, windowMs: number): Promise<RateDecision> {
  const [count, pttl] = (await SCRIPT.run(redis, [`rl:${key}`], [windowMs])) as [number, number];
  return {
    allowed: count <= limit,
    remaining: Math.max(0, limit - count),
    retryAfterSeconds: Math.max(1, Math.ceil(pttl / 1000)),
  };
}
