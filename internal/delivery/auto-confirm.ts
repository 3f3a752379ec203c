import { deliveredBefore } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { confirmReceipt } from './confirm-receipt.js';

/** Confirms receipt for orders delivered more than order.autoConfirmDays ago, each on its own. */
export async function autoConfirmReceipts(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const before = new Date(now.getTime() - ctx.config.order.autoConfirmDays * 86_400_000);
  const due = await deliveredBefore(ctx.db, before, input.limit ?? 500);
  let confirmed = 0;
  const r = await sweepEach(ctx, 'auto-confirm-receipts', due, String, async (id) => {
    const res = await confirmReceipt(ctx, { orderId: id, actor: { type: 'SYSTEM', id: 'auto-confirm' } }).catch(
      (err: unknown) => {
        if ((err as { code?: string }).code === 'ORDER_STATE_CONFLICT') return { changed: false };
        throw err;
      },
    );
    if (res.changed) confirmed++;
  });
  return { due: due.length, confirmed, failed: r.failed };
}
