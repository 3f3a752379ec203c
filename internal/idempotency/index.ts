export {
  abandonIdempotent,
  type Begin,
  beginIdempotent,
  completeIdempotent,
  type IdempotencySeal,
  KEEP_MS,
  requestHash,
  runIdempotent,
  takeOverClaim,
} from './idempotency.js';
