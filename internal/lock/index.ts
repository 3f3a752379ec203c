export { type Lease, withLease } from './lease.js';
export { type Lock, tryLock } from './redis-lock.js';
