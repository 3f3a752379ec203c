import { and, asc, eq, lt } from 'drizzle-orm';
import { isAppError } from '../errorx/index.js';
import { orders } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { cancelOrder } from './cancel-order.js';

/**
 * Backstop for the order_timeout delay messages: cancels PENDING_PAYMENT orders whose deadline has
 * passed, oldest first, at most `limit` per run. An order paid meanwhile is skipped (state conflict).
 */
export async function closeExpiredOrders(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const due = await ctx.db
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.status, 'PENDING_PAYMENT'), lt(orders.payDeadline, now)))
    .orderBy(asc(orders.payDeadline))
    .limit(input.limit ?? 500);
  let closed = 0;
  let skipped = 0;
  for (const { id } of due) {
    try {
      const r = await cancelOrder(ctx, {
        orderId: id,
        reason: 'TIMEOUT',
        actor: { type: 'SYSTEM', id: 'close-expired' },
        now,
      });
      if (r.changed) closed++;
    } catch (err) {
      if (!isAppError(err) || err.code !== 'ORDER_STATE_CONFLICT') throw err;
      skipped++;
    }
  }
  return { due: due.length, closed, skipped };
}
