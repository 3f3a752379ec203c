import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { getItems, restockSold, type Tx } from './repository.js';
import { type Actor, type TransitionResult, transitionOrder } from './transition.js';

export interface StartRefundInput {
  orderId: bigint;
  userId?: bigint;
  actor: Actor;
  reason: string;
  refundWindowDays: number;
  now?: Date;
  /** Writes the refund row in the same transaction. Receives whether goods go back to stock. */
  recordRefund: (tx: Tx, restock: boolean, amount: number) => Promise<void>;
}

/**
 * PAID | DELIVERED | COMPLETED -> REFUNDING. Before shipping it is a cancel-after-payment and the goods
 * return to stock; after delivery it is an after-sale request within the refund window.
 */
export async function startRefund(ctx: ServiceContext, input: StartRefundInput): Promise<TransitionResult> {
  const now = input.now ?? new Date();
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'request_refund',
    actor: input.actor,
    reason: input.reason,
    userId: input.userId,
    guard: (order) => {
      if (order.status === 'PAID') return;
      const since = order.deliveredAt ?? order.completedAt;
      if (!since || now.getTime() - since.getTime() > input.refundWindowDays * 86_400_000) {
        throw new AppError(
          'REFUND_WINDOW_CLOSED',
          `refunds are accepted within ${input.refundWindowDays} days of delivery`,
        );
      }
    },
    apply: async (tx, order) => {
      const restock = order.status === 'PAID';
      if (restock) {
        for (const item of await getItems(tx, order.id)) {
          if (!(await restockSold(tx, item.skuId, item.quantity))) {
            throw new Error(`stock invariant broken: SKU ${item.skuId} has less sold than order ${order.id} holds`);
          }
        }
      }
      await input.recordRefund(tx, restock, order.paidAmount);
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
