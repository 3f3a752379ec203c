import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { cachedOrderCounts, invalidateOrderLists } from './list-cache.js';
import { countOrdersByStatus, getOrder, setOrderHidden } from './repository.js';
import { type OrderStatus, orderStatuses } from './rules.js';

/** The states a buyer may hide an order in: nothing more will be asked of them. */
export const HIDEABLE_STATUSES: readonly OrderStatus[] = ['COMPLETED', 'CANCELLED', 'REFUNDED'];

/**
 * A buyer hides a finished order from their list and counts, or shows it again. The order itself does not
 * change (same version and ETag; its read by id and the admin views still show it). Idempotent: hiding a
 * hidden order answers the same. Another user's order is ORDER_NOT_FOUND; an unfinished one
 * ORDER_STATE_CONFLICT.
 */
export async function setOrderVisibility(
  ctx: ServiceContext,
  input: { orderId: bigint; userId: bigint; hidden: boolean },
): Promise<{ orderId: string; hidden: boolean }> {
  const order = await getOrder(ctx.db, input.orderId);
  if (!order || order.userId !== input.userId)
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  if (input.hidden && !HIDEABLE_STATUSES.includes(order.status as OrderStatus)) {
    throw new AppError(
      'ORDER_STATE_CONFLICT',
      `the order is ${order.status}; only ${HIDEABLE_STATUSES.join(', ')} orders can be hidden`,
      { currentStatus: order.status },
    );
  }
  await setOrderHidden(ctx.db, order.id, input.userId, input.hidden);
  await invalidateOrderLists(ctx, [input.userId]);
  return { orderId: String(order.id), hidden: input.hidden };
}

export interface OrderCounts {
  /** Every status, 0 included. */
  byStatus: Record<OrderStatus, number>;
  total: number;
}

/**
 * A buyer's orders per status (app badges), hidden ones left out. Cached with the buyer's list pages and
 * dropped with them on every change to one of the buyer's orders: exact once the change has committed.
 */
export async function countMyOrders(ctx: ServiceContext, userId: bigint): Promise<OrderCounts> {
  const counts = await cachedOrderCounts(ctx, userId, async () => {
    const rows = await countOrdersByStatus(ctx.db, userId);
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  });
  const byStatus = Object.fromEntries(orderStatuses.map((s) => [s, counts[s] ?? 0])) as Record<OrderStatus, number>;
  return { byStatus, total: Object.values(byStatus).reduce((n, v) => n + v, 0) };
}
