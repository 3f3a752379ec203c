import { and, asc, eq, lt } from 'drizzle-orm';
import { isAppError } from '../errorx/index.js';
import { orders } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { confirmReceipt } from './confirm-receipt.js';

/** Confirms receipt for orders delivered more than order.autoConfirmDays ago. */
export async function autoConfirmReceipts(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const before = new Date(now.getTime() - ctx.config.order.autoConfirmDays * 86_400_000);
  const due = await ctx.db
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.status, 'DELIVERED'), lt(orders.deliveredAt, before)))
    .orderBy(asc(orders.deliveredAt))
    .limit(input.limit ?? 500);
  let confirmed = 0;
  for (const { id } of due) {
    try {
      if ((await confirmReceipt(ctx, { orderId: id, actor: { type: 'SYSTEM', id: 'auto-confirm' } })).changed)
        confirmed++;
    } catch (err) {
      if (!isAppError(err) || err.code !== 'ORDER_STATE_CONFLICT') throw err;
    }
  }
  return { due: due.length, confirmed };
}
