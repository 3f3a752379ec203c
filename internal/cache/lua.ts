import { createHash } from 'node:crypto';
import type { Cluster, Redis as SingleRedis } from 'ioredis';

/** One Redis, or Redis Cluster (redis.clusterNodes). */
type Redis = SingleRedis | Cluster;

export interface LuaScript {
  /** Runs the script by its SHA (EVALSHA), loading it with EVAL the first time Redis does not know it. */
  run(redis: Redis, keys: Array<string>, args: Array<string | number>): Promise<unknown>;
}

/** A Lua script sent by SHA: the script text crosses the network only when Redis lacks it. */
export function luaScript(source: string): LuaScript {
  const sha = createHash('sha1').update(source).digest('hex');
  return {
    async run(redis, keys, args) {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (!String((err as Error)?.message).includes('NOSCRIPT')) throw err;
        return redis.eval(source, keys.length, ...keys, ...args);
      }
    },
  };
}
