export { markRedisFailed, REDIS_BYPASS_MS, redisBypassed } from './bypass.js';
export { type CacheAside, cacheAside } from './cache-aside.js';
export { type LuaScript, luaScript } from './lua.js';
