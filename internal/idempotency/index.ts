export {
  abandonIdempotent,
  type Begin,
  beginIdempotent,
  completeIdempotent,
  KEEP_MS,
  requestHash,
  runIdempotent,
} from './idempotency.js';
