export { type Lease, withLease } from './lease.js';
