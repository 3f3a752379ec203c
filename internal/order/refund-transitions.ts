import type { ServiceContext } from '../svc/index.js';
import { getItems, restockSold, type Tx } from './repository.js';
import { type Actor, type TransitionResult, transitionOrder } from './transition.js';

export interface StartRefundInput {
  orderId: bigint;
  userId?: bigint;
  actor: Actor;
  reason: string;
  /** Writes the refund row in the same transaction. Receives whether goods go back to stock. */
  recordRefund: (tx: Tx, restock: boolean, amount: number) => Promise<void>;
}

/**
 * PAID -> REFUNDING: cancel after payment, the whole paid amount back and the goods to stock. Nothing has
 * shipped; once something has, money goes back by after-sale (internal/aftersale), line by line.
 */
export async function startRefund(ctx: ServiceContext, input: StartRefundInput): Promise<TransitionResult> {
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'request_refund',
    actor: input.actor,
    reason: input.reason,
    userId: input.userId,
    apply: async (tx, order) => {
      for (const item of await getItems(tx, order.id)) {
        if (!(await restockSold(tx, item.skuId, item.quantity))) {
          throw new Error(`stock invariant broken: SKU ${item.skuId} has less sold than order ${order.id} holds`);
        }
      }
      await input.recordRefund(tx, true, order.paidAmount);
      return undefined;
    },
  });
}

/** REFUNDING -> REFUNDED on the provider's confirmation. */
export async function finishRefund(
  ctx: ServiceContext,
  input: { orderId: bigint; amount: number; settleRefund: (tx: Tx) => Promise<void> },
): Promise<TransitionResult> {
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'complete_refund',
    actor: { type: 'PROVIDER', id: 'refund' },
    reason: 'refund confirmed',
    apply: async (tx, order) => {
      await input.settleRefund(tx);
      return { refundedAmount: order.refundedAmount + input.amount };
    },
  });
}

/**
 * REFUNDING -> REFUND_FAILED (the provider refused the refund) or REFUND_FAILED -> REFUNDING (an
 * operator retries it). Neither touches stock: goods went back once, when the refund started.
 */
export async function moveRefund(
  ctx: ServiceContext,
  input: {
    orderId: bigint;
    event: 'fail_refund' | 'retry_refund';
    actor: Actor;
    reason: string;
    apply: (tx: Tx) => Promise<void>;
  },
): Promise<TransitionResult> {
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: input.event,
    actor: input.actor,
    reason: input.reason,
    apply: async (tx) => {
      await input.apply(tx);
      return undefined;
    },
  });
}
