export { type Backfill, type BackfillResult, backfillStatus, backfills, runBackfill } from './backfills.js';
export { type CleanupInput, type CleanupResult, cleanupExpired } from './cleanup-expired.js';
export { checkSkuCsv, importSkus, SKU_CSV_HEADER, type SkuLine } from './import-skus.js';
export { findOrders, orderDossier } from './order-dossier.js';
export { replayOrderEvents } from './replay-events.js';
export { demoSkus, seedDemo } from './seed-demo.js';
export {
  checkShipCsv,
  MAX_SHIP_LINES,
  SHIP_CSV_HEADER,
  type ShipBatchResult,
  type ShipLine,
  shipBatch,
} from './ship-batch.js';
