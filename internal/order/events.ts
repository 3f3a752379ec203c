import { type Envelope, newEnvelope, topics } from '../mq/index.js';
import type { OrderRow } from './repository.js';
import type { OrderStatus } from './rules.js';

/** Event types on order_event, one per state an order enters. */
export const orderEventType: Record<OrderStatus, string> = {
  PENDING_PAYMENT: 'order.created',
  PAID: 'order.paid',
  PARTIALLY_SHIPPED: 'order.partially_shipped',
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
  /** The event type: by default the one of the status the order enters; amendments name their own. */
  type = orderEventType[status],
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
  return { topic: topics.orderEvent.name, envelope: newEnvelope(type, data), key: data.orderId };
}

export type OrderMessage = ReturnType<typeof orderEnvelope>;

/** Any one event on order_event: an order's own, or an after-sale's (internal/aftersale/events.ts). */
export interface EventMessage {
  topic: string;
  envelope: Envelope<unknown>;
  key: string;
}

/** The type of a message that carries several orders' `order.created` events (a flash-sale batch). */
export const ORDER_CREATED_BATCH = 'order.created.batch';

/** An order_event message carrying several events; `inner` are the events it carries, each with its own id. */
export interface BatchMessage {
  topic: string;
  envelope: ReturnType<typeof newEnvelope<{ events: OrderMessage['envelope'][] }>>;
  /** For the tx-log row of the batch itself. */
  key: string;
  /** The broker's keys: every order id, so the broker finds an order's batch by its id. */
  keys: string[];
  /** `order.created`: a consumer that filters by that tag gets the batch too. */
  tag: string;
  inner: OrderMessage[];
}

/**
 * The most orders one `order.created.batch` message carries. Its broker keys (every order id, up to 20
 * characters each with the separator) are user properties, and the RocketMQ proxy refuses a message
 * whose user properties exceed 16 KiB (its maxUserPropertySize, code 43101): 1,000 order ids do.
 */
export const MAX_ORDERS_PER_BATCH_MESSAGE = 500;

/**
 * One transaction message for a batch of new orders: the broker's cost is one half message and one
 * commit per batch instead of per order. Every inner event keeps its own event id, type `order.created`
 * and version 0, and has its own tx-log row (replay by order id re-sends it alone, same event id).
 * At most MAX_ORDERS_PER_BATCH_MESSAGE orders.
 */
export function orderCreatedBatch(msgs: OrderMessage[], batchKey: string): BatchMessage {
  if (msgs.length > MAX_ORDERS_PER_BATCH_MESSAGE) {
    throw new Error(`an order.created.batch message carries at most ${MAX_ORDERS_PER_BATCH_MESSAGE} orders`);
  }
  return {
    topic: topics.orderEvent.name,
    envelope: newEnvelope(ORDER_CREATED_BATCH, { events: msgs.map((m) => m.envelope) }),
    key: batchKey,
    keys: msgs.map((m) => m.key),
    tag: orderEventType.PENDING_PAYMENT,
    inner: msgs,
  };
}

/**
 * The mq_tx_log rows that make an outgoing message resolvable by check-back: one per event; a batch
 * adds its own row (the check-back looks it up by the batch's event id; its payload lists the event
 * ids it carries). Replay skips batch rows and re-sends the inner events one by one.
 */
export function txLogRows(nextId: () => bigint, msg: EventMessage | BatchMessage) {
  if (!('inner' in msg)) return [txLogRow(nextId(), msg)];
  return [
    ...msg.inner.map((m) => txLogRow(nextId(), m)),
    {
      id: nextId(),
      eventId: msg.envelope.eventId,
      topic: msg.topic,
      eventType: msg.envelope.type,
      messageKey: msg.key,
      payload: { eventIds: msg.inner.map((m) => m.envelope.eventId) } as Record<string, unknown>,
    },
  ];
}

function txLogRow(id: bigint, msg: EventMessage) {
  return {
    id,
    eventId: msg.envelope.eventId,
    topic: msg.topic,
    eventType: msg.envelope.type,
    messageKey: msg.key,
    payload: msg.envelope.data as unknown as Record<string, unknown>,
  };
}
