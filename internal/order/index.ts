export { type CancelOrderInput, type CancelReason, cancelOrder } from './cancel-order.js';
export { type CreatedOrder, type CreateOrderInput, createOrder, LIMITS } from './create-order.js';
export { type OrderEventData, orderEventType } from './events.js';
export { getOrderDetail, type OrderDetail } from './get-order.js';
export { type ListOrdersInput, listOrders, MAX_PAGE_SIZE, type OrderPage } from './list-orders.js';
export type { OrderItemRow, OrderRow } from './repository.js';
export { decide, isOrderStatus, type OrderEvent, type OrderStatus, orderStatuses, transitions } from './rules.js';
export { type Actor, type TransitionResult, transitionOrder } from './transition.js';
