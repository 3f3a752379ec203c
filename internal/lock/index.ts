export { type Lock, tryLock } from './redis-lock.js';
