export { type InstanceStats, P2cBalancer } from './balancer.js';
export {
  ORDER_SERVICE,
  OrderClient,
  type OrderClientOptions,
  type OrderClientTls,
  OrderServiceError,
} from './client.js';
export * from './events/index.js';
export type {
  Address,
  ApplyPaymentResultRequest,
  ApplyPaymentResultResponse,
  CancelOrderRequest,
  CancelOrderResponse,
  ConfirmReceiptRequest,
  ConfirmReceiptResponse,
  CreateOrderRequest,
  CreateOrderResponse,
  GetOrderRequest,
  GetOrderResponse,
  ItemInput,
  ListOrdersRequest,
  ListOrdersResponse,
  MarkDeliveredRequest,
  MarkDeliveredResponse,
  Order,
  OrderItem,
  ReportParcelLostRequest,
  ReportParcelLostResponse,
  RequestRefundRequest,
  RequestRefundResponse,
  ShipOrderRequest,
  ShipOrderResponse,
  StartPaymentRequest,
  StartPaymentResponse,
} from './gen/qianfan/order/v1/order.js';
/**
 * The gRPC enum: `OrderStatus.PAID` is the value 'ORDER_STATUS_PAID' (a string literal type).
 * pkg/events' `OrderStatus` is the status text events carry ('PAID').
 */
export { OrderStatus as OrderStatusEnum } from './gen/qianfan/order/v1/order.js';

import type * as pb from './gen/qianfan/order/v1/order.js';

/** @deprecated since 0.2: each RPC has its own response (CreateOrderResponse, ...). Removed in 0.3. */
export type OrderReply = pb.CreateOrderResponse;
/** @deprecated since 0.2: use ListOrdersResponse. Removed in 0.3. */
export type ListOrdersReply = pb.ListOrdersResponse;
/** @deprecated since 0.2: use StartPaymentResponse. Removed in 0.3. */
export type PaymentReply = pb.StartPaymentResponse;
/** @deprecated since 0.2: use ApplyPaymentResultResponse. Removed in 0.3. */
export type ApplyPaymentResultReply = pb.ApplyPaymentResultResponse;
