export { autoConfirmReceipts } from './auto-confirm.js';
export { confirmReceipt } from './confirm-receipt.js';
export { markDelivered } from './mark-delivered.js';
export { parseDeliveryUpdate } from './messages.js';
export { type ShipOrderInput, shipmentProblem, shipOrder } from './ship-order.js';
