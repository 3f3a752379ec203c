import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import type { Seal } from './commit-with-event.js';
import { getItems, releaseStock } from './repository.js';
import { type Actor, type TransitionResult, transitionOrder } from './transition.js';

export type CancelReason = 'USER' | 'TIMEOUT' | 'ADMIN';

export interface CancelOrderInput {
  orderId: bigint;
  reason: CancelReason;
  actor: Actor;
  /** A user may cancel only their own order. */
  userId?: bigint;
  /** Timeout cancellations only: refuse if the deadline has not passed (a late or early message). */
  now?: Date;
  /** Stores the caller's idempotent answer in the cancel's own transaction. */
  seal?: Seal<TransitionResult>;
}

/** PENDING_PAYMENT -> CANCELLED; returns the reserved stock. Cancelling a cancelled order is a no-op. */
export async function cancelOrder(ctx: ServiceContext, input: CancelOrderInput): Promise<TransitionResult> {
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'cancel',
    actor: input.actor,
    reason: input.reason,
    userId: input.userId,
    seal: input.seal,
    guard: (order) => {
      if (input.reason === 'TIMEOUT' && order.payDeadline > (input.now ?? new Date())) {
        throw new AppError('ORDER_STATE_CONFLICT', 'the payment deadline has not passed yet', {
          currentStatus: order.status,
          payDeadline: order.payDeadline.toISOString(),
        });
      }
    },
    apply: async (tx, order) => {
      for (const item of await getItems(tx, order.id)) {
        if (!(await releaseStock(tx, item.skuId, item.quantity))) {
          throw new Error(`stock invariant broken: SKU ${item.skuId} has less reserved than order ${order.id} holds`);
        }
      }
      const now = new Date();
      return { cancelledAt: now, cancelReason: input.reason };
    },
  });
}
