import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { getItems, getOrder, type OrderItemRow, type OrderRow } from './repository.js';

export interface OrderDetail {
  order: OrderRow;
  items: OrderItemRow[];
}

/** One order with its items. With `userId`, another user's order is "not found", never "forbidden". */
export async function getOrderDetail(
  ctx: ServiceContext,
  input: { orderId: bigint; userId?: bigint },
): Promise<OrderDetail> {
  const order = await getOrder(ctx.db, input.orderId);
  if (!order || (input.userId !== undefined && order.userId !== input.userId)) {
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  }
  return { order, items: await getItems(ctx.db, order.id) };
}
