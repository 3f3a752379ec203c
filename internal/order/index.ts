export {
  ADDRESS_CHANGEABLE,
  AMENDMENT_EVENTS,
  adjustOrderPrice,
  changeOrderAddress,
} from './amend-order.js';
export { type CancelOrderInput, type CancelReason, cancelOrder } from './cancel-order.js';
export { changeOrder, type OrderChangeInput, type OrderPlan } from './change.js';
export { closeExpiredOrders } from './close-expired.js';
export { commitWithEvent, type Seal } from './commit-with-event.js';
export { type CreatedOrder, type CreateOrderInput, createOrder, LIMITS, validateAddress } from './create-order.js';
export { orderRevision } from './detail-cache.js';
export {
  type EventMessage,
  MAX_ORDERS_PER_BATCH_MESSAGE,
  ORDER_CREATED_BATCH,
  type OrderEventData,
  orderCreatedBatch,
  orderEventType,
} from './events.js';
export { type ExportShape, exportOrdersCsv, maskPhone, yuan } from './export-orders.js';
export { getOrderDetail, invalidateOrderDetail, type OrderDetail } from './get-order.js';
export { countMyOrders, HIDEABLE_STATUSES, type OrderCounts, setOrderVisibility } from './hide-order.js';
export { invalidateOrderLists } from './list-cache.js';
export { itemsByOrder, type ListOrdersInput, listOrders, MAX_PAGE_SIZE, type OrderPage } from './list-orders.js';
export { type MarkPaidInput, markPaid } from './mark-paid.js';
export { parseDeadlineMessage } from './messages.js';
export { afterOrdersCreated, type NewOrder, newOrderRows, type OrderSource } from './new-order.js';
export { addOrderNote, listOrderNotes, MAX_NOTES_PER_ORDER, type OrderNoteRow } from './notes.js';
export {
  allArrived,
  findParcel,
  lastArrival,
  lastShipped,
  type Parcel,
  parcelsOf,
  sameParcels,
} from './parcels.js';
export { applyPaymentDeadline } from './payment-deadline.js';
export { finishRefund, moveRefund, type StartRefundInput, startRefund } from './refund-transitions.js';
export type { OrderItemRow, OrderRow } from './repository.js';
export {
  deliveredBefore,
  findSkus,
  getItems,
  getOrder,
  insertOrders,
  releaseStock,
  restockSold,
  setOrderHidden,
  shippedBefore,
  type Tx,
} from './repository.js';
export {
  decide,
  isOrderStatus,
  type OrderEvent,
  type OrderStatus,
  orderNoOf,
  orderStatuses,
  type PricedLine,
  priceLines,
  transitions,
} from './rules.js';
export {
  candidatesSql,
  matchesQuery,
  type OrderSearch,
  PAYMENT_STATUSES,
  type PaymentStatus,
  SEARCH_WINDOW,
  type SearchPage,
  type SearchSummary,
  SUMMARY_SCAN,
  searchOrders,
  summarizeSearch,
  validateSearch,
} from './search-orders.js';
export { changeOrderSide } from './side-change.js';
export { type Actor, type TransitionResult, transitionOrder } from './transition.js';
export { announceOrderChange, type OrderChange, orderChangesSince, watchChannel } from './watch.js';
export { type OrderWatcher, OrderWatchHub } from './watch-hub.js';
export {
  buyerTimeline,
  loadOrderExtras,
  type OrderExtras,
  type PaymentView,
  type RefundView,
  type ShipmentView,
  type TimelineEntry,
} from './whole-order.js';
