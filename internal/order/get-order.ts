import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type OrderDetail, orderDetailCache } from './detail-cache.js';
import { getItems, getOrder } from './repository.js';

export type { OrderDetail };

/**
 * One order with its items, through the Redis cache (invalidated by every transition). With `userId`,
 * another user's order is "not found", never "forbidden".
 */
export async function getOrderDetail(
  ctx: ServiceContext,
  input: { orderId: bigint; userId?: bigint },
): Promise<OrderDetail> {
  const detail = await orderDetailCache(ctx).get(input.orderId.toString(), async () => {
    const order = await getOrder(ctx.db, input.orderId);
    return order ? { order, items: await getItems(ctx.db, order.id) } : undefined;
  });
  if (!detail || (input.userId !== undefined && detail.order.userId !== input.userId)) {
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  }
  return detail;
}

/** Drops an order from the detail cache (the next read loads it from MySQL). */
export async function invalidateOrderDetail(ctx: ServiceContext, orderId: bigint): Promise<void> {
  await orderDetailCache(ctx).invalidate(orderId.toString());
}
