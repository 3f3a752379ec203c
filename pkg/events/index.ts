/**
 * What qianfan-order publishes, for services that consume it. This package imports nothing from the
 * service itself; a test keeps these names equal to the service's catalog.
 */
export const TOPICS = {
  /** TRANSACTION topic; key = order id. Every order state change. */
  orderEvent: 'order_event',
} as const;

export const ORDER_EVENT_TYPES = {
  created: 'order.created',
  paid: 'order.paid',
  shipped: 'order.shipped',
  delivered: 'order.delivered',
  completed: 'order.completed',
  cancelled: 'order.cancelled',
  refunding: 'order.refunding',
  refunded: 'order.refunded',
  refundFailed: 'order.refund_failed',
} as const;

export type OrderEventType = (typeof ORDER_EVENT_TYPES)[keyof typeof ORDER_EVENT_TYPES];

export type OrderStatus =
  | 'PENDING_PAYMENT'
  | 'PAID'
  | 'SHIPPED'
  | 'DELIVERED'
  | 'COMPLETED'
  | 'CANCELLED'
  | 'REFUNDING'
  | 'REFUNDED'
  | 'REFUND_FAILED';

/** The message body of every event (JSON). */
export interface Envelope<T> {
  schemaVersion: 1;
  /** Unique per event: dedupe by it. */
  eventId: string;
  type: string;
  occurredAt: string;
  /** W3C trace context (traceparent, tracestate). */
  trace: Record<string, string>;
  data: T;
}

/** `data` of every order_event message. Drop an event whose version is not newer than the one applied. */
export interface OrderEventData {
  orderId: string;
  orderNo: string;
  userId: string;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  version: number;
  /** fen */
  totalAmount: number;
  currency: string;
  reason: string;
}

/** Parses an order_event body; throws on anything that is not a version-1 envelope. */
export function parseOrderEvent(body: Buffer | string): Envelope<OrderEventData> {
  const e = JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Envelope<OrderEventData>;
  if (e?.schemaVersion !== 1 || typeof e.eventId !== 'string' || typeof e.data?.orderId !== 'string') {
    throw new Error('not a qianfan-order order_event envelope (schemaVersion 1)');
  }
  return e;
}
