/**
 * The order state machine and pricing: pure functions, no I/O.
 *
 *   PENDING_PAYMENT -> PAID -> SHIPPED -> DELIVERED -> COMPLETED
 *   PAID -> PARTIALLY_SHIPPED -> SHIPPED         (some parcels sent, then the last unit)
 *   SHIPPED -> COMPLETED                         (the buyer confirms, or no delivery signal for N days)
 *   PENDING_PAYMENT -> CANCELLED                 (user, timeout, admin)
 *   PAID -> REFUNDING -> REFUNDED                (cancel after payment: the whole order, before shipping)
 *   REFUNDING -> REFUND_FAILED -> REFUNDING                  (the provider refused; an operator retries)
 *   PAID | PARTIALLY_SHIPPED | SHIPPED | DELIVERED | COMPLETED -> REFUNDED   (after-sales refunded it all)
 */
export const orderStatuses = [
  'PENDING_PAYMENT',
  'PAID',
  'PARTIALLY_SHIPPED',
  'SHIPPED',
  'DELIVERED',
  'COMPLETED',
  'CANCELLED',
  'REFUNDING',
  'REFUNDED',
  'REFUND_FAILED',
] as const;
export type OrderStatus = (typeof orderStatuses)[number];

export type OrderEvent =
  | 'pay'
  | 'cancel'
  | 'ship'
  | 'ship_part'
  | 'deliver'
  | 'confirm'
  | 'request_refund'
  | 'complete_refund'
  | 'fail_refund'
  | 'retry_refund';

/** The one transition table: (state, event) -> next state. Anything absent is illegal. */
export const transitions: Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>> = {
  PENDING_PAYMENT: { pay: 'PAID', cancel: 'CANCELLED' },
  // complete_refund from PAID, PARTIALLY_SHIPPED, SHIPPED, DELIVERED and COMPLETED: after-sales have
  // refunded every unit and the shipping (internal/aftersale).
  PAID: { ship: 'SHIPPED', ship_part: 'PARTIALLY_SHIPPED', request_refund: 'REFUNDING', complete_refund: 'REFUNDED' },
  // More parcels keep the status (internal/delivery: same-status changes with events of their own).
  PARTIALLY_SHIPPED: { ship: 'SHIPPED', complete_refund: 'REFUNDED' },
  SHIPPED: { deliver: 'DELIVERED', confirm: 'COMPLETED', complete_refund: 'REFUNDED' },
  // Delivered goods are refunded by after-sale, line by line; REFUNDED when they gave everything back.
  DELIVERED: { confirm: 'COMPLETED', complete_refund: 'REFUNDED' },
  COMPLETED: { complete_refund: 'REFUNDED' },
  CANCELLED: {},
  REFUNDING: { complete_refund: 'REFUNDED', fail_refund: 'REFUND_FAILED' },
  REFUNDED: {},
  // The provider may still confirm a refund it first reported as failed.
  REFUND_FAILED: { retry_refund: 'REFUNDING', complete_refund: 'REFUNDED' },
};

export type Decision = { kind: 'move'; to: OrderStatus } | { kind: 'noop' } | { kind: 'illegal' };

/**
 * What an event does to an order in `from`: move, nothing (the order is already where the event
 * leads: a duplicate delivery or retry), or illegal.
 */
export function decide(from: OrderStatus, event: OrderEvent): Decision {
  const to = transitions[from][event];
  if (to) return { kind: 'move', to };
  if (Object.values(transitions).some((row) => row[event] === from)) return { kind: 'noop' };
  return { kind: 'illegal' };
}

export function isOrderStatus(s: string): s is OrderStatus {
  return (orderStatuses as readonly string[]).includes(s);
}

export interface PricedLine {
  skuId: bigint;
  title: string;
  unitPrice: number;
  quantity: number;
  lineTotal: number;
}

/** Line totals and the order total in integer fen; throws RangeError past Number.MAX_SAFE_INTEGER. */
export function priceLines(
  lines: Array<{ skuId: bigint; quantity: number }>,
  skus: Map<bigint, { title: string; price: number }>,
): { lines: PricedLine[]; itemsAmount: number } {
  let itemsAmount = 0;
  const priced = lines.map((l) => {
    const sku = skus.get(l.skuId);
    if (!sku) throw new RangeError(`sku ${l.skuId} missing`);
    const lineTotal = sku.price * l.quantity;
    itemsAmount += lineTotal;
    if (!Number.isSafeInteger(lineTotal) || !Number.isSafeInteger(itemsAmount)) throw new RangeError('amount overflow');
    return { skuId: l.skuId, title: sku.title, unitPrice: sku.price, quantity: l.quantity, lineTotal };
  });
  return { lines: priced, itemsAmount };
}

/** Human order number derived from the id: unique because the id is. */
export function orderNoOf(id: bigint): string {
  return `QF${id.toString().padStart(19, '0')}`;
}
