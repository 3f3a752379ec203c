import { randomBytes } from 'node:crypto';
import type { Cluster, Redis as SingleRedis } from 'ioredis';

/** One Redis, or Redis Cluster (redis.clusterNodes). */
type Redis = SingleRedis | Cluster;

import { markRedisFailed, redisBypassed } from './bypass.js';
import { luaScript } from './lua.js';

const NOT_FOUND = '\u0000nf';

export interface CacheAside<T> {
  /** Cached value, or `load()` once per key at a time in this process (singleflight), then cached. */
  get(key: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  /**
   * Drops the cached value. With the version the source just reached, it also leaves a marker that
   * refuses any later fill of an older version (a reader that loaded just before the change).
   */
  invalidate(key: string, version?: number): Promise<void>;
}

// A value is stored as `v<version>#<tag>|<payload>`, a marker as `t<version>`. A fill replaces what is
// there unless that is of a newer version. The tag is random per fill, so the head before `|` names one
// fill's exact bytes: a process holding that fill's decoded value checks the head, not the whole value.
const FILL = luaScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  local cv = tonumber(string.match(cur, '^[vt](%-?%d+)'))
  if cv and cv > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`);

/**
 * Redis cache-aside: values live `ttlSeconds` plus up to `jitterSeconds` (so keys written together do
 * not expire together); a miss in the database is cached briefly as a not-found placeholder so a flood
 * of lookups for a missing key does not reach MySQL; concurrent misses of one key share one load.
 * Writes are version-guarded (`versionOf`): once a change to version n was invalidated, nothing older
 * than n is cached again. Redis errors degrade to loading from the source, and for REDIS_BYPASS_MS after
 * one, reads go to the source without asking Redis (each would wait for its command timeout).
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
    versionOf: (v: T) => number;
    onError?: (err: unknown) => void;
    /** Called with every read's result, for hit/miss metrics. */
    onResult?: (result: 'hit' | 'miss' | 'error') => void;
    /**
     * Keep up to this many decoded values in the process, each beside the head (version and fill tag) it
     * was read under: while Redis holds the same head, a read fetches only the head (GETRANGE) and
     * returns the same (frozen) value, without reading or decoding the payload. As exact as Redis itself:
     * every fill writes a new head (a change whose invalidation Redis did not take, e.g. while it was
     * down, is served until the value's TTL, like any cache-aside). 0 turns it off.
     */
    decodedMemo?: number;
  },
): CacheAside<T> {
  /** Loads in progress, each with the raw value (nothing, or an invalidation marker) whose miss began it. */
  const inflight = new Map<string, { seen: string | null; p: Promise<T | undefined> }>();
  const memo = new Map<string, { head: string; value: T }>();
  const memoMax = opts.decodedMemo ?? 0;
  const decode = (key: string, raw: string): T => {
    const bar = raw.indexOf('|');
    if (memoMax === 0) return opts.decode(raw.slice(bar + 1));
    const value = deepFreeze(opts.decode(raw.slice(bar + 1)));
    const head = raw.slice(0, bar);
    // A value filled before fills carried a tag is served but not remembered.
    if (head.includes('#')) {
      memo.delete(key);
      memo.set(key, { head, value });
      if (memo.size > memoMax) memo.delete(memo.keys().next().value as string);
    }
    return value;
  };
  // The remembered value if Redis still holds the fill it came from.
  const remembered = async (key: string): Promise<T | undefined> => {
    const known = memo.get(key);
    if (!known) return undefined;
    const start = await redis.getrange(k(key), 0, known.head.length);
    return start === `${known.head}|` ? known.value : undefined;
  };
  const k = (key: string) => `${opts.prefix}${key}`;

  const loadAndFill = async (key: string, load: () => Promise<T | undefined>) => {
    const value = await load();
    const write =
      value === undefined
        ? redis.set(k(key), NOT_FOUND, 'EX', opts.notFoundTtlSeconds, 'NX')
        : FILL.run(
            redis,
            [k(key)],
            [
              opts.versionOf(value),
              `v${opts.versionOf(value)}#${randomBytes(9).toString('base64url')}|${opts.encode(value)}`,
              opts.ttlSeconds + Math.floor(Math.random() * (opts.jitterSeconds + 1)),
            ],
          );
    await write.catch((err: unknown) => opts.onError?.(err));
    return value;
  };

  return {
    async get(key, load) {
      // Redis failed a moment ago (down, or stalled past its command timeout): straight to the source.
      if (redisBypassed(redis, k(key))) {
        opts.onResult?.('error');
        return load();
      }
      let cached: string | null = null;
      try {
        const known = memoMax > 0 ? await remembered(key) : undefined;
        if (known !== undefined) {
          opts.onResult?.('hit');
          return known;
        }
        cached = await redis.get(k(key));
      } catch (err) {
        if (!markRedisFailed(redis, k(key))) opts.onError?.(err);
        opts.onResult?.('error');
        return load();
      }
      if (cached === NOT_FOUND || cached?.startsWith('v')) {
        opts.onResult?.('hit');
        return cached === NOT_FOUND ? undefined : decode(key, cached);
      }
      opts.onResult?.('miss');
      // Join a load of this key only if it began on the same miss: a change invalidated since (its marker
      // replaced what that load saw) means the load may have read the row before the change.
      const running = inflight.get(key);
      if (running && running.seen === cached) return running.p;
      const p: Promise<T | undefined> = loadAndFill(key, load).finally(() => {
        if (inflight.get(key)?.p === p) inflight.delete(key);
      });
      inflight.set(key, { seen: cached, p });
      return p;
    },
    async invalidate(key, version) {
      const write =
        version === undefined
          ? redis.del(k(key))
          : FILL.run(redis, [k(key)], [version, `t${version}`, opts.ttlSeconds + opts.jitterSeconds]);
      await write.catch((err: unknown) => opts.onError?.(err));
    },
  };
}

/** Values handed out from the memo are shared between requests, so nobody may change them. */
function deepFreeze<V>(v: V): V {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
