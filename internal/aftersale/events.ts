import { newEnvelope, topics } from '../mq/index.js';
import type { EventMessage } from '../order/index.js';
import type { AfterSaleLineRow, AfterSaleRow } from './repository.js';
import type { AfterSaleStatus } from './rules.js';

/** Event types on order_event, one per state an after-sale enters (key and message group: the order id). */
export const afterSaleEventType: Record<AfterSaleStatus, string> = {
  REQUESTED: 'aftersale.requested',
  APPROVED: 'aftersale.approved',
  REJECTED: 'aftersale.rejected',
  RETURN_SHIPPED: 'aftersale.return_shipped',
  RETURN_RECEIVED: 'aftersale.return_received',
  REFUNDING: 'aftersale.refunding',
  REFUNDED: 'aftersale.refunded',
  CLOSED: 'aftersale.closed',
};

export interface AfterSaleEventData {
  afterSaleId: string;
  orderId: string;
  userId: string;
  kind: string;
  status: AfterSaleStatus;
  previousStatus: AfterSaleStatus | null;
  /** The after-sale's own version: consumers drop an event not newer than what they applied. */
  version: number;
  lines: Array<{ orderItemId: string; quantity: number; amount: number }>;
  itemsAmount: number;
  shippingAmount: number;
  reason: string;
}

export function afterSaleEnvelope(
  a: AfterSaleRow,
  lines: AfterSaleLineRow[],
  status: AfterSaleStatus,
  previous: AfterSaleStatus | null,
  version: number,
  reason: string,
): EventMessage {
  const data: AfterSaleEventData = {
    afterSaleId: a.id.toString(),
    orderId: a.orderId.toString(),
    userId: a.userId.toString(),
    kind: a.kind,
    status,
    previousStatus: previous,
    version,
    lines: lines.map((l) => ({ orderItemId: l.orderItemId.toString(), quantity: l.quantity, amount: l.amount })),
    itemsAmount: a.itemsAmount,
    shippingAmount: a.shippingAmount,
    reason,
  };
  return { topic: topics.orderEvent.name, envelope: newEnvelope(afterSaleEventType[status], data), key: data.orderId };
}
