import type { Redis } from 'ioredis';

const NOT_FOUND = '\u0000nf';

export interface CacheAside<T> {
  /** Cached value, or `load()` once per key at a time in this process (singleflight), then cached. */
  get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  invalidate(key: string): Promise<void>;
}

/**
 * Redis cache-aside: values live `ttlSeconds` plus up to `jitterSeconds` (so keys written together do
 * not expire together); a miss in the database is cached briefly as a not-found placeholder so a flood
 * of lookups for a missing key does not reach MySQL; concurrent misses of one key share one load.
 * Redis errors degrade to loading from the source.
 */
export function cacheAside<T>(
  redis: Redis,
  opts: {
    prefix: string;
    ttlSeconds: number;
    jitterSeconds: number;
    notFoundTtlSeconds: number;
    encode: (v: T) => string;
    decode: (s: string) => T;
    onError?: (err: unknown) => void;
  },
): CacheAside<T> {
  const inflight = new Map<string, Promise<T | undefined>>();
  const k = (key: string) => `${opts.prefix}${key}`;

  const loadAndFill = async (key: string, load: () => Promise<T | undefined>) => {
    const value = await load();
    const ttl =
      value === undefined
        ? opts.notFoundTtlSeconds
        : opts.ttlSeconds + Math.floor(Math.random() * (opts.jitterSeconds + 1));
    await redis
      .set(k(key), value === undefined ? NOT_FOUND : opts.encode(value), 'EX', ttl)
      .catch((err) => opts.onError?.(err));
    return value;
  };

  return {
    async get(key, load) {
      let cached: string | null = null;
      try {
        cached = await redis.get(k(key));
      } catch (err) {
        opts.onError?.(err);
        return load();
      }
      if (cached === NOT_FOUND) return undefined;
      if (cached !== null) return opts.decode(cached);
      let p = inflight.get(key);
      if (!p) {
        p = loadAndFill(key, load).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },
    async invalidate(key) {
      await redis.del(k(key)).catch((err) => opts.onError?.(err));
    },
  };
}
