import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { staleApprovedReturns } from './repository.js';
import { expireReturn } from './return-deadline.js';

/**
 * The backstop of the return deadline messages: closes approved returns the buyer has not sent back within
 * order.returnShipDays of the approval, each on its own. A return shipped meanwhile is left alone (the
 * step finds it RETURN_SHIPPED and refuses).
 */
export async function closeStaleAfterSales(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const before = new Date(now.getTime() - ctx.config.order.returnShipDays * 86_400_000);
  const due = await staleApprovedReturns(ctx.db, before, input.limit ?? 500);
  let closed = 0;
  const r = await sweepEach(ctx, 'close-stale-after-sales', due, String, async (id) => {
    if (await expireReturn(ctx, id, 'close-stale-after-sales')) closed++;
  });
  return { due: due.length, closed, failed: r.failed };
}
