export {
  abandonIdempotent,
  type Begin,
  beginIdempotent,
  completeIdempotent,
  KEEP_MS,
  requestHash,
} from './idempotency.js';
