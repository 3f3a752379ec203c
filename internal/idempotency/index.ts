export {
  abandonIdempotent,
  type Begin,
  beginIdempotent,
  completeIdempotent,
  type IdempotencySeal,
  KEEP_MS,
  requestHash,
  runIdempotent,
} from './idempotency.js';
