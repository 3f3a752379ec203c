import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { cancelOrder } from './cancel-order.js';
import { countExpiredPending, expiredPendingOrders } from './repository.js';

/**
 * Backstop for the order_timeout delay messages: cancels PENDING_PAYMENT orders whose deadline has
 * passed, oldest first, at most `limit` per run. Each order on its own: one that fails is logged and
 * counted and the rest go on. An order paid meanwhile is a no-op.
 */
export async function closeExpiredOrders(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const due = await expiredPendingOrders(ctx.db, now, input.limit ?? 500);
  let closed = 0;
  const r = await sweepEach(ctx, 'close-expired-orders', due, String, async (id) => {
    const res = await cancelOrder(ctx, {
      orderId: id,
      reason: 'TIMEOUT',
      actor: { type: 'SYSTEM', id: 'close-expired' },
      now,
    }).catch((err: unknown) => {
      // Paid (or cancelled) between the query and the cancel: nothing to do.
      if ((err as { code?: string }).code === 'ORDER_STATE_CONFLICT') return { changed: false };
      throw err;
    });
    if (res.changed) closed++;
  });
  // What is still overdue after this run (alert: orders past their deadline still pending).
  const overdue = await countExpiredPending(ctx.db, now);
  serviceMetrics(ctx.metrics).overduePending.set(overdue);
  return { due: due.length, closed, failed: r.failed, stillOverdue: overdue };
}
