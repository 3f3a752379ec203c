export { type CacheAside, cacheAside } from './cache-aside.js';
