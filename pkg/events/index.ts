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
  /** The first parcel of an order that ships as several left; status PARTIALLY_SHIPPED. */
  partiallyShipped: 'order.partially_shipped',
  shipped: 'order.shipped',
  delivered: 'order.delivered',
  completed: 'order.completed',
  cancelled: 'order.cancelled',
  refunding: 'order.refunding',
  refunded: 'order.refunded',
  refundFailed: 'order.refund_failed',
  /** The receiver's address changed before shipping; `status` and `previousStatus` are the same. */
  addressChanged: 'order.address_changed',
  /** An unpaid order's total changed (`totalAmount` is the new one); pay attempts for the old are closed. */
  priceAdjusted: 'order.price_adjusted',
  /** One more parcel left and units remain to ship; `status` and `previousStatus` are PARTIALLY_SHIPPED. */
  parcelShipped: 'order.parcel_shipped',
  /** A parcel was delivered while others are still on their way; the status is unchanged. */
  parcelDelivered: 'order.parcel_delivered',
  /** An operator reported a parcel lost; a refund-only after-sale for its units follows. Status unchanged. */
  parcelLost: 'order.parcel_lost',
} as const;

export type OrderEventType = (typeof ORDER_EVENT_TYPES)[keyof typeof ORDER_EVENT_TYPES];

/**
 * After-sale events, also on order_event (key = order id; tag = the type), one per state an after-sale
 * enters; `data` is AfterSaleEventData, not OrderEventData. Subscribe by tag (`order.*` types or these).
 */
export const AFTER_SALE_EVENT_TYPES = {
  requested: 'aftersale.requested',
  approved: 'aftersale.approved',
  rejected: 'aftersale.rejected',
  returnShipped: 'aftersale.return_shipped',
  returnReceived: 'aftersale.return_received',
  refunding: 'aftersale.refunding',
  refunded: 'aftersale.refunded',
  closed: 'aftersale.closed',
} as const;

export type AfterSaleStatus =
  | 'REQUESTED'
  | 'APPROVED'
  | 'REJECTED'
  | 'RETURN_SHIPPED'
  | 'RETURN_RECEIVED'
  | 'REFUNDING'
  | 'REFUNDED'
  | 'CLOSED';

/** `data` of an `aftersale.*` event. Apply by `version` (the after-sale's own, from 0), per after-sale. */
export interface AfterSaleEventData {
  afterSaleId: string;
  orderId: string;
  userId: string;
  kind: 'REFUND_ONLY' | 'RETURN_AND_REFUND';
  status: AfterSaleStatus;
  previousStatus: AfterSaleStatus | null;
  version: number;
  /** The units asked for and what each line's units refund, in fen. */
  lines: Array<{ orderItemId: string; quantity: number; amount: number }>;
  itemsAmount: number;
  /** The shipping fee, when this after-sale is the one that leaves nothing of the order unrefunded. */
  shippingAmount: number;
  reason: string;
}

/**
 * The type of a message that carries several orders' `order.created` events (the orders of one
 * flash-sale batch). Its tag is `order.created`, so a subscription to that tag receives it too; its
 * `data.events` are complete `order.created` envelopes, each with its own event id.
 */
export const ORDER_CREATED_BATCH_TYPE = 'order.created.batch';

/** `data` of an `order.created.batch` message. */
export interface OrderCreatedBatchData {
  events: Envelope<OrderEventData>[];
}

export type OrderStatus =
  | 'PENDING_PAYMENT'
  | 'PAID'
  | 'PARTIALLY_SHIPPED'
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
  /** APP, WEB, RPC or FLASHSALE. */
  source: string;
}

/**
 * Every order event an order_event message carries, in order: one for a plain message, several for an
 * `order.created.batch`. Dedupe each by its `eventId` and apply it by `version`, as for single events.
 * Throws on anything that is not a version-1 envelope.
 */
export function parseOrderEvents(body: Buffer | string): Envelope<OrderEventData>[] {
  return eventsOf(decode(body));
}

/**
 * Parses an order_event body that carries one event. Throws on an `order.created.batch` (read those with
 * parseOrderEvents) and on anything that is not a version-1 envelope.
 */
export function parseOrderEvent(body: Buffer | string): Envelope<OrderEventData> {
  const e = decode(body);
  if (e?.type === ORDER_CREATED_BATCH_TYPE) {
    throw new Error(`an ${ORDER_CREATED_BATCH_TYPE} message carries several events: read it with parseOrderEvents`);
  }
  return checked(e);
}

function decode(body: Buffer | string) {
  return JSON.parse(typeof body === 'string' ? body : body.toString('utf8')) as Envelope<unknown> | undefined;
}

function eventsOf(e: Envelope<unknown> | undefined): Envelope<OrderEventData>[] {
  if (e?.type === ORDER_CREATED_BATCH_TYPE && e.schemaVersion === 1) {
    const events = (e.data as Partial<OrderCreatedBatchData> | undefined)?.events;
    if (!Array.isArray(events)) throw new Error(`${ORDER_CREATED_BATCH_TYPE} without data.events`);
    return events.map(checked);
  }
  return [checked(e)];
}

function checked(e: unknown): Envelope<OrderEventData> {
  const x = e as Envelope<OrderEventData> | undefined;
  if (x?.schemaVersion !== 1 || typeof x.eventId !== 'string' || typeof x.data?.orderId !== 'string') {
    throw new Error('not a qianfan-order order_event envelope (schemaVersion 1)');
  }
  return x;
}
