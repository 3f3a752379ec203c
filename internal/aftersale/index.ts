export { type Allocation, allocate, type Held, type Quote, quote, unitsAmount } from './allocation.js';
export { closeStaleAfterSales } from './close-stale.js';
export { type AfterSaleEventData, afterSaleEventType } from './events.js';
export { closeFullyRefunded, finishAfterSaleRefund } from './finish.js';
export {
  fulfilment,
  type LineFulfilment,
  parcelUnits,
  readFulfilment,
  unitsLeftToShip,
  unitsStillToShip,
} from './fulfilment.js';
export { measureAfterSales } from './gauges.js';
export { type AfterSaleView, afterSalesOfOrderView, listAfterSalePage, readAfterSale } from './read.js';
export {
  type AfterSaleLineRow,
  type AfterSaleLogRow,
  type AfterSaleRow,
  afterSalesOfOrder,
  getAfterSale,
  linesOf,
  listAfterSales,
  liveOfOrder,
  logOf,
} from './repository.js';
export {
  AFTER_SALE_ORDER_STATUSES,
  LOST_PARCEL_STATUSES,
  MAX_EVIDENCE,
  previewAfterSale,
  type RequestAfterSaleInput,
  requestAfterSale,
} from './request.js';
export {
  expireReturnIfDue,
  parseReturnDeadline,
  RETURN_DEADLINE_TYPE,
  returnDueAt,
} from './return-deadline.js';
export {
  type AfterSaleEvent,
  type AfterSaleGoods,
  type AfterSaleKind,
  type AfterSaleStatus,
  afterSaleKinds,
  afterSaleStatuses,
  afterSaleTransitions,
  decideAfterSale,
  isAfterSaleStatus,
  RELEASED_STATUSES,
} from './rules.js';
export {
  approveAfterSale,
  type RecordRefund,
  receiveReturn,
  rejectAfterSale,
  shipReturn,
  withdrawAfterSale,
} from './steps.js';
export type { AfterSaleResult } from './transition.js';
