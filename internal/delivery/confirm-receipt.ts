import { type Actor, transitionOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

/** DELIVERED -> COMPLETED: the user confirms receipt (or the auto-confirm job does, as SYSTEM). */
export async function confirmReceipt(ctx: ServiceContext, input: { orderId: bigint; userId?: bigint; actor: Actor }) {
  const now = new Date();
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'confirm',
    actor: input.actor,
    reason: 'receipt confirmed',
    userId: input.userId,
    apply: async () => ({ completedAt: now }),
  });
}
