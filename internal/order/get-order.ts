import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type OrderDetail, orderDetailCache } from './detail-cache.js';
import { getItems, getOrder } from './repository.js';
import { loadOrderExtras } from './whole-order.js';

export type { OrderDetail };

/**
 * The whole order (items, payment attempts, refunds, shipments, timeline), through the Redis cache (invalidated by every transition). With `userId`,
 * another user's order is "not found", never "forbidden".
 */
export async function getOrderDetail(
  ctx: ServiceContext,
  input: { orderId: bigint; userId?: bigint },
): Promise<OrderDetail> {
  const detail = await orderDetailCache(ctx).get(input.orderId.toString(), async () => {
    const order = await getOrder(ctx.db, input.orderId);
    if (!order) return undefined;
    // The row first: its revision is never newer than the parts read after it, so a fill racing a
    // change is stored under the older revision and refused or replaced by that change's marker.
    const [items, extras] = await Promise.all([getItems(ctx.db, order.id), loadOrderExtras(ctx.db, order.id)]);
    return { order, items, extras };
  });
  if (!detail || (input.userId !== undefined && detail.order.userId !== input.userId)) {
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  }
  return detail;
}

/**
 * Drops an order from the detail cache (the next read loads it from MySQL). With the revision the change
 * committed (`orderRevision(version, sideRev)`), a fill loaded before the change is refused too.
 */
export async function invalidateOrderDetail(ctx: ServiceContext, orderId: bigint, revision?: number): Promise<void> {
  await orderDetailCache(ctx).invalidate(orderId.toString(), revision);
}
