import { eq } from 'drizzle-orm';
import { shipments } from '../model/index.js';
import { type Actor, transitionOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

/** SHIPPED -> DELIVERED (logistics update or admin). */
export async function markDelivered(ctx: ServiceContext, input: { orderId: bigint; actor: Actor; at?: Date }) {
  const at = input.at ?? new Date();
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'deliver',
    actor: input.actor,
    reason: 'delivered',
    apply: async (tx, order) => {
      await tx.update(shipments).set({ status: 'DELIVERED', deliveredAt: at }).where(eq(shipments.orderId, order.id));
      return { deliveredAt: at };
    },
  });
}
