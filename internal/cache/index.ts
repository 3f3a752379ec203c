export { type CacheAside, cacheAside } from './cache-aside.js';
export { type LuaScript, luaScript } from './lua.js';
