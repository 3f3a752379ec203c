import { newEnvelope, topics } from '../mq/index.js';
import type { OrderRow } from './repository.js';
import type { OrderStatus } from './rules.js';

/** Event types on order_event, one per state an order enters. */
export const orderEventType: Record<OrderStatus, string> = {
  PENDING_PAYMENT: 'order.created',
  PAID: 'order.paid',
  SHIPPED: 'order.shipped',
  DELIVERED: 'order.delivered',
  COMPLETED: 'order.completed',
  CANCELLED: 'order.cancelled',
  REFUNDING: 'order.refunding',
  REFUNDED: 'order.refunded',
  REFUND_FAILED: 'order.refund_failed',
};

export interface OrderEventData {
  orderId: string;
  orderNo: string;
  userId: string;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  /** Consumers drop an event whose version is not newer than what they have applied. */
  version: number;
  totalAmount: number;
  currency: string;
  reason: string;
  /** APP, WEB, RPC or FLASHSALE. */
  source: string;
}

export function orderEnvelope(
  o: OrderRow,
  status: OrderStatus,
  previous: OrderStatus | null,
  version: number,
  reason: string,
) {
  const data: OrderEventData = {
    orderId: o.id.toString(),
    orderNo: o.orderNo,
    userId: o.userId.toString(),
    status,
    previousStatus: previous,
    version,
    totalAmount: o.totalAmount,
    currency: o.currency,
    reason,
    source: o.source,
  };
  return { topic: topics.orderEvent.name, envelope: newEnvelope(orderEventType[status], data), key: data.orderId };
}

/** The mq_tx_log row that makes an outgoing event's transaction message resolvable by check-back. */
export function txLogRow(id: bigint, msg: ReturnType<typeof orderEnvelope>) {
  return {
    id,
    eventId: msg.envelope.eventId,
    topic: msg.topic,
    eventType: msg.envelope.type,
    messageKey: msg.key,
    payload: msg.envelope.data as unknown as Record<string, unknown>,
  };
}
