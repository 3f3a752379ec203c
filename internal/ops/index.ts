export { type CleanupInput, type CleanupResult, cleanupExpired } from './cleanup-expired.js';
export { demoSkus, seedDemo } from './seed-demo.js';
