import { type Actor, transitionOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

/**
 * DELIVERED | SHIPPED -> COMPLETED: the user confirms receipt (or the auto-confirm job does, as SYSTEM).
 */
export async function confirmReceipt(
  ctx: ServiceContext,
  input: { orderId: bigint; userId?: bigint; actor: Actor; reason?: string },
) {
  const now = new Date();
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'confirm',
    actor: input.actor,
    reason: input.reason ?? 'receipt confirmed',
    userId: input.userId,
    apply: async () => ({ completedAt: now }),
  });
}
