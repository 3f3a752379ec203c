export { applyDeliveryUpdate, type DeliveryOutcome } from './apply-update.js';
export { autoConfirmReceipts } from './auto-confirm.js';
export { confirmReceipt } from './confirm-receipt.js';
export { type MarkDeliveredInput, markDelivered } from './mark-delivered.js';
export { parseDeliveryUpdate } from './messages.js';
export { type ReportLostInput, reportParcelLost } from './report-lost.js';
export { SHIPPABLE_STATUSES, type ShipOrderInput, shipmentProblem, shipOrder } from './ship-order.js';
