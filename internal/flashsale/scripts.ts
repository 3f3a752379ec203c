import { luaScript } from '../cache/index.js';

/**
 * The flash sale's Redis Lua scripts. Each runs atomically and touches the keys of one sale only
 * (one cluster slot, see keys.ts).
 */

/**
 * Admission. KEYS: meta, stock, users, tickets, queued, idem.
 * ARGV: now (the ticket's queued time), userId, quantity, seq, ticket JSON, request hash, idempotency TTL (s).
 * The window (startsAt <= t < endsAt) is checked against Redis TIME.
 * Returns {1, seq} queued | {2, seq} replay of the same request | {-1} unknown sale | {-2} not active |
 * {-3} over the buyer's limit | {-4} sold out | {-5} idempotency key reused with another body.
 */
export const PURCHASE = luaScript(`
local prev = redis.call('GET', KEYS[6])
if prev then
  local sep = string.find(prev, '|', 1, true)
  if string.sub(prev, 1, sep - 1) ~= ARGV[6] then return {-5} end
  return {2, string.sub(prev, sep + 1)}
end
local m = redis.call('HMGET', KEYS[1], 'startsAt', 'endsAt', 'limit')
if not m[1] then return {-1} end
-- The sale window is judged by Redis's clock, the same for every restful replica, never the caller's.
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if clock < tonumber(m[1]) or clock >= tonumber(m[2]) then return {-2} end
local now = tonumber(ARGV[1])
local qty = tonumber(ARGV[3])
local held = tonumber(redis.call('HGET', KEYS[3], ARGV[2]) or '0')
if held + qty > tonumber(m[3]) then return {-3} end
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
if left < qty then return {-4} end
redis.call('DECRBY', KEYS[2], qty)
redis.call('HINCRBY', KEYS[3], ARGV[2], qty)
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[5], now, ARGV[4])
redis.call('SET', KEYS[6], ARGV[6] .. '|' .. ARGV[4], 'EX', tonumber(ARGV[7]))
return {1, ARGV[4]}`);

/**
 * A batch is on the broker. KEYS: queued, sent. ARGV: `<message id>@<sent at ms>`, then the batch's ticket seqs. Marks only
 * tickets still queued (one the consumer already settled needs no marker).
 */
export const MARK_SENT = luaScript(`
for i = 2, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then redis.call('HSET', KEYS[2], ARGV[i], ARGV[1]) end
end
return 1`);

/**
 * After the DB recorded tickets. KEYS: tickets, queued, stock, users, returned, sent.
 * ARGV: groups of (seq, ticket JSON, failed 0|1, quantity, userId). A failed ticket's units go back
 * to the sale exactly once.
 */
export const SETTLE = luaScript(`
for i = 1, #ARGV, 5 do
  local seq = ARGV[i]
  redis.call('HSET', KEYS[1], seq, ARGV[i + 1])
  redis.call('ZREM', KEYS[2], seq)
  redis.call('HDEL', KEYS[6], seq)
  if ARGV[i + 2] == '1' and redis.call('HSETNX', KEYS[5], 't:' .. seq, 1) == 1 then
    redis.call('INCRBY', KEYS[3], tonumber(ARGV[i + 3]))
    redis.call('HINCRBY', KEYS[4], ARGV[i + 4], -tonumber(ARGV[i + 3]))
  end
end
return 1`);

/**
 * A cancelled flash-sale order gives its units back, once per order. KEYS: stock, users, returned, tickets.
 * ARGV: orderId, quantity, userId, seq, ticket JSON. Returns 1 when returned now, 0 when already done.
 */
export const RETURN_ORDER = luaScript(`
if redis.call('HSETNX', KEYS[3], 'o:' .. ARGV[1], 1) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
redis.call('HINCRBY', KEYS[2], ARGV[3], -tonumber(ARGV[2]))
redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])
return 1`);

/** Loads a sale. KEYS: meta, stock. ARGV: startsAt, endsAt, limit, price, skuId, stock. Stock is set only if absent. */
export const LOAD = luaScript(`
redis.call('HSET', KEYS[1], 'startsAt', ARGV[1], 'endsAt', ARGV[2], 'limit', ARGV[3], 'price', ARGV[4], 'skuId', ARGV[5])
redis.call('SET', KEYS[2], ARGV[6], 'NX')
return 1`);

/**
 * Reconcile's repair of a sale's remaining stock, as a compare-and-set. KEYS: meta, stock, queued.
 * ARGV: the remaining stock the caller read, the value to set. Only once the sale has ended (by Redis
 * TIME), with no ticket in flight, and while the stock is still what the caller read.
 * Returns 1 set | -1 the sale is still live | -2 tickets in flight | -3 the stock changed meanwhile.
 */
export const REPAIR_STOCK = luaScript(`
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = tonumber(redis.call('HGET', KEYS[1], 'endsAt') or '0')
if clock < ends then return -1 end
if redis.call('ZCARD', KEYS[3]) > 0 then return -2 end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -3 end
redis.call('SET', KEYS[2], ARGV[2])
return 1`);

/**
 * Once a sale has ended (Redis TIME) and no ticket is in flight, its keys get a TTL so Redis memory stays
 * bounded; ticket reads then come from the DB. KEYS: meta, queued, then every other key of the sale.
 * ARGV: ttl (s). Returns 1 when set, 0 when the sale is live or has tickets in flight.
 */
export const EXPIRE_SETTLED = luaScript(`
local t = redis.call('TIME')
local clock = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ends = tonumber(redis.call('HGET', KEYS[1], 'endsAt') or '0')
if ends == 0 or clock < ends then return 0 end
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], tonumber(ARGV[1])) end
return 1`);
