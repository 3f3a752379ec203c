import { randomBytes } from 'node:crypto';
import { luaScript, markRedisFailed, redisBypassed } from '../cache/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import type { OrderPage } from './list-orders.js';
import { itemFromJson, itemToJson, orderFromJson, orderToJson } from './row-codec.js';

const TTL_SECONDS = 60;

// One hash per user: field `_e` is the user's list epoch, every other field is one query's page stored as
// `<epoch>|<json>`. A page counts only while its epoch is current; any change to one of the user's orders
// starts a new epoch (and drops the old pages), and a fill is refused unless the epoch it read is still
// current, so a reader that loaded just before a change cannot put the old page back.
// Each fill also writes the page's tag, `#<query>` = `<epoch>.<random>`: no two fills share a tag, even
// after the hash expired or was evicted and epochs start again, so a process that already decoded the
// page under a tag can check it with a few bytes instead of reading the whole page again.
// A fill is also refused when its load took so long (TTL less a second) that the hash may have expired
// since the epoch was read: an expired hash reads as epoch 0 again, and would accept a page loaded
// before a change. At most MAX_QUERIES pages are kept per user.
// ARGV: epoch read, query, `<epoch>|<page>`, ttl (s), tag, ms since the epoch was read, max fields.
const FILL = luaScript(`
if tonumber(ARGV[6]) >= tonumber(ARGV[4]) * 1000 - 1000 then return 0 end
if (redis.call('HGET', KEYS[1], '_e') or '0') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 and redis.call('HLEN', KEYS[1]) + 2 > tonumber(ARGV[7]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], '#' .. ARGV[2], ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`);
const BUMP = luaScript(`
local e = tonumber(redis.call('HGET', KEYS[1], '_e') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '_e', e)
redis.call('EXPIRE', KEYS[1], ARGV[1])
return e`);

/** Queries (pages) cached per user at most: each page adds two fields to the user's hash. */
export const MAX_QUERIES = 20;

const keyOf = (userId: bigint) => `order:list:{${userId}}`;

// Decoded pages beside the tag they were read under: polling an unchanged page reads its tag, not the
// page, and decodes it once per process. As exact as the page in Redis: any fill writes a new tag (a
// change whose invalidation Redis did not take is served until the hash's TTL). Pages handed out are frozen.
const MEMO_MAX = 2000;
const memo = new Map<string, { tag: string; value: unknown }>();

/** How one kind of per-user value is stored: the text in Redis, and freezing what the memo hands out. */
interface Codec<T> {
  encode(v: T): string;
  decode(s: string): T;
  freeze(v: T): T;
}

function remember<T>(memoKey: string, tag: string, value: T, codec: Codec<T>): T {
  codec.freeze(value);
  memo.delete(memoKey);
  memo.set(memoKey, { tag, value });
  if (memo.size > MEMO_MAX) memo.delete(memo.keys().next().value as string);
  return value;
}

const pageCodec: Codec<OrderPage> = {
  encode: (page) =>
    JSON.stringify({
      orders: page.orders.map(orderToJson),
      items: page.items.map(itemToJson),
      nextCursor: page.nextCursor,
    }),
  decode(s) {
    const raw = JSON.parse(s) as {
      orders: Array<Record<string, unknown>>;
      items: Array<Record<string, unknown>>;
      nextCursor: string | null;
    };
    return { orders: raw.orders.map(orderFromJson), items: raw.items.map(itemFromJson), nextCursor: raw.nextCursor };
  },
  freeze(page) {
    for (const o of page.orders) Object.freeze(o);
    for (const i of page.items) Object.freeze(i);
    Object.freeze(page.orders);
    Object.freeze(page.items);
    return Object.freeze(page);
  },
};

/** The cached value if it is current: from the memo when its tag still holds, else read and decoded. */
async function cachedValue<T>(ctx: ServiceContext, key: string, query: string, codec: Codec<T>) {
  const memoKey = `${key}|${query}`;
  const known = memo.get(memoKey);
  if (known) {
    const [e, tag] = await ctx.redis.hmget(key, '_e', `#${query}`);
    if (tag === known.tag && tag.startsWith(`${e ?? '0'}.`)) return { epoch: e ?? '0', value: known.value as T };
  }
  const [e, tag, raw] = await ctx.redis.hmget(key, '_e', `#${query}`, query);
  const epoch = e ?? '0';
  if (!raw?.startsWith(`${epoch}|`)) return { epoch, value: undefined };
  const value = codec.decode(raw.slice(epoch.length + 1));
  // A tag of the current epoch was written with this value (one fill writes both). A value without one
  // is served but not remembered.
  return { epoch, value: tag?.startsWith(`${epoch}.`) ? remember(memoKey, tag, value, codec) : value };
}

/**
 * A user's order-list pages in Redis (apps poll "my orders"), per query, invalidated by every change to
 * any of the user's orders (see `invalidateOrderLists`). Redis errors degrade to loading from MySQL.
 */
export function cachedListPage(
  ctx: ServiceContext,
  userId: bigint,
  query: string,
  load: () => Promise<OrderPage>,
  clock: () => number = performance.now.bind(performance),
): Promise<OrderPage> {
  return cachedPerUser(ctx, userId, query, load, pageCodec, 'order_list', clock);
}

const countsCodec: Codec<Record<string, number>> = {
  encode: (c) => JSON.stringify(c),
  decode: (s) => JSON.parse(s) as Record<string, number>,
  freeze: (c) => Object.freeze(c),
};

/**
 * A user's order counts per status, cached beside their list pages (query `counts`): the same epoch, so
 * any change to one of the user's orders, or hiding one, makes the next read count again.
 */
export function cachedOrderCounts(
  ctx: ServiceContext,
  userId: bigint,
  load: () => Promise<Record<string, number>>,
): Promise<Record<string, number>> {
  return cachedPerUser(ctx, userId, 'counts', load, countsCodec, 'order_counts');
}

async function cachedPerUser<T>(
  ctx: ServiceContext,
  userId: bigint,
  query: string,
  load: () => Promise<T>,
  codec: Codec<T>,
  cacheName: string,
  clock: () => number = performance.now.bind(performance),
): Promise<T> {
  const key = keyOf(userId);
  const reads = serviceMetrics(ctx.metrics).cache;
  const readAt = clock();
  let epoch: string;
  if (redisBypassed(ctx.redis, key)) {
    reads.inc({ cache: cacheName, result: 'error' });
    return load();
  }
  try {
    const cached = await cachedValue(ctx, key, query, codec);
    if (cached.value !== undefined) {
      reads.inc({ cache: cacheName, result: 'hit' });
      return cached.value;
    }
    epoch = cached.epoch;
  } catch (err) {
    if (!markRedisFailed(ctx.redis, key)) ctx.logger.warn({ err }, 'order list cache unavailable; reading MySQL');
    reads.inc({ cache: cacheName, result: 'error' });
    return load();
  }
  reads.inc({ cache: cacheName, result: 'miss' });
  const value = await load();
  const tag = `${epoch}.${randomBytes(9).toString('base64url')}`;
  const elapsed = Math.ceil(clock() - readAt);
  const filled = await FILL.run(
    ctx.redis,
    [key],
    [epoch, query, `${epoch}|${codec.encode(value)}`, TTL_SECONDS, tag, elapsed, 2 * MAX_QUERIES + 1],
  ).catch((err: unknown) => ctx.logger.warn({ err }, 'order list cache fill failed'));
  // What this process filled it has decoded already: the next read checks the tag only.
  return filled === 1 ? remember(`${key}|${query}`, tag, value, codec) : value;
}

/** After a change to these users' orders committed: their cached list pages stop counting. */
export async function invalidateOrderLists(ctx: ServiceContext, userIds: bigint[]): Promise<void> {
  await Promise.all(
    [...new Set(userIds)].map((u) =>
      BUMP.run(ctx.redis, [keyOf(u)], [TTL_SECONDS]).catch((err: unknown) =>
        ctx.logger.warn({ err, userId: String(u) }, 'order list cache invalidation failed'),
      ),
    ),
  );
}
