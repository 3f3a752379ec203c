/**
 * The after-sale state machine: pure, no I/O.
 *
 *   REQUESTED -> APPROVED -> REFUNDING -> REFUNDED                        (refund only)
 *   REQUESTED -> APPROVED -> RETURN_SHIPPED -> RETURN_RECEIVED -> REFUNDING -> REFUNDED   (return and refund)
 *   REQUESTED -> REJECTED                      (the merchant refuses, with a note)
 *   REQUESTED | APPROVED -> CLOSED             (the buyer withdraws before anything is refunded or sent back)
 *   APPROVED -> CLOSED                         (expire: a return not sent back within order.returnShipDays)
 */
export const afterSaleStatuses = [
  'REQUESTED',
  'APPROVED',
  'REJECTED',
  'RETURN_SHIPPED',
  'RETURN_RECEIVED',
  'REFUNDING',
  'REFUNDED',
  'CLOSED',
] as const;
export type AfterSaleStatus = (typeof afterSaleStatuses)[number];

export const afterSaleKinds = ['REFUND_ONLY', 'RETURN_AND_REFUND'] as const;
export type AfterSaleKind = (typeof afterSaleKinds)[number];

/** Where an after-sale's goods are (after_sales.goods): with the buyer, never shipped, or in a lost parcel. */
export type AfterSaleGoods = 'DELIVERED' | 'UNSHIPPED' | 'LOST';

export type AfterSaleEvent =
  | 'approve'
  | 'reject'
  | 'withdraw'
  | 'expire'
  | 'ship_return'
  | 'receive'
  | 'start_refund'
  | 'complete_refund';

/** The one transition table: (state, event) -> next state. Anything absent is illegal. */
export const afterSaleTransitions: Record<AfterSaleStatus, Partial<Record<AfterSaleEvent, AfterSaleStatus>>> = {
  REQUESTED: { approve: 'APPROVED', reject: 'REJECTED', withdraw: 'CLOSED' },
  APPROVED: { ship_return: 'RETURN_SHIPPED', start_refund: 'REFUNDING', withdraw: 'CLOSED', expire: 'CLOSED' },
  REJECTED: {},
  RETURN_SHIPPED: { receive: 'RETURN_RECEIVED' },
  RETURN_RECEIVED: { start_refund: 'REFUNDING' },
  REFUNDING: { complete_refund: 'REFUNDED' },
  REFUNDED: {},
  CLOSED: {},
};

/** Which events each kind allows: a refund-only request never ships anything back. */
const kindEvents: Record<AfterSaleKind, ReadonlySet<AfterSaleEvent>> = {
  REFUND_ONLY: new Set(['approve', 'reject', 'withdraw', 'start_refund', 'complete_refund']),
  RETURN_AND_REFUND: new Set([
    'approve',
    'reject',
    'withdraw',
    'expire',
    'ship_return',
    'receive',
    'start_refund',
    'complete_refund',
  ]),
};

/** Requests that hold their lines' units: every state but the two that give them back. */
export const RELEASED_STATUSES: readonly AfterSaleStatus[] = ['REJECTED', 'CLOSED'];

/** The states an after-sale waits in for someone (the merchant, the buyer, the provider). */
export const OPEN_STATUSES: readonly AfterSaleStatus[] = [
  'REQUESTED',
  'APPROVED',
  'RETURN_SHIPPED',
  'RETURN_RECEIVED',
  'REFUNDING',
];

export type AfterSaleDecision = { kind: 'move'; to: AfterSaleStatus } | { kind: 'noop' } | { kind: 'illegal' };

/**
 * What an event does to a request of `kind` in `from`: move, nothing (already where the event leads: a
 * retried call), or illegal. A refund-only request goes APPROVED -> REFUNDING, never via a return.
 */
export function decideAfterSale(kind: AfterSaleKind, from: AfterSaleStatus, event: AfterSaleEvent): AfterSaleDecision {
  if (!kindEvents[kind].has(event)) return { kind: 'illegal' };
  if (event === 'start_refund' && kind === 'RETURN_AND_REFUND' && from === 'APPROVED') return { kind: 'illegal' };
  const to = afterSaleTransitions[from][event];
  if (to) return { kind: 'move', to };
  if (Object.values(afterSaleTransitions).some((row) => row[event] === from)) return { kind: 'noop' };
  return { kind: 'illegal' };
}

export function isAfterSaleStatus(s: string): s is AfterSaleStatus {
  return (afterSaleStatuses as readonly string[]).includes(s);
}

export function isAfterSaleKind(s: string): s is AfterSaleKind {
  return (afterSaleKinds as readonly string[]).includes(s);
}
