import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { staleApprovedReturns } from './repository.js';
import { transitionAfterSale } from './transition.js';

/**
 * Closes approved returns the buyer has not sent back within order.returnShipDays of the approval
 * (APPROVED -> CLOSED, event `expire`), each on its own; the units are free for another request. A return
 * shipped meanwhile is left alone (the step finds it RETURN_SHIPPED and refuses).
 */
export async function closeStaleAfterSales(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const before = new Date(now.getTime() - ctx.config.order.returnShipDays * 86_400_000);
  const due = await staleApprovedReturns(ctx.db, before, input.limit ?? 500);
  let closed = 0;
  const r = await sweepEach(ctx, 'close-stale-after-sales', due, String, async (id) => {
    const res = await transitionAfterSale(ctx, {
      afterSaleId: id,
      events: ['expire'],
      actor: { type: 'SYSTEM', id: 'close-stale-after-sales' },
      reason: `return not sent back within ${ctx.config.order.returnShipDays} days`,
    }).catch((err: unknown) => {
      if (err instanceof AppError && err.code === 'AFTER_SALE_STATE_CONFLICT') return { changed: false };
      throw err;
    });
    if (res.changed) closed++;
  });
  return { due: due.length, closed, failed: r.failed };
}
