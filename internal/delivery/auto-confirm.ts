import { deliveredBefore, shippedBefore } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { confirmReceipt } from './confirm-receipt.js';

/**
 * Completes, each on its own, orders delivered more than order.autoConfirmDays ago, and SHIPPED orders
 * whose last parcel left more than order.autoCompleteShippedDays ago with no delivery signal since (a
 * carrier that never reports delivery).
 */
export async function autoConfirmReceipts(ctx: ServiceContext, input: { now?: Date; limit?: number } = {}) {
  const now = input.now ?? new Date();
  const day = 86_400_000;
  const delivered = await deliveredBefore(
    ctx.db,
    new Date(now.getTime() - ctx.config.order.autoConfirmDays * day),
    input.limit ?? 500,
  );
  const shipped = await shippedBefore(
    ctx.db,
    new Date(now.getTime() - ctx.config.order.autoCompleteShippedDays * day),
    input.limit ?? 500,
  );
  const due = [...delivered, ...shipped];
  let confirmed = 0;
  const r = await sweepEach(ctx, 'auto-confirm-receipts', due, String, async (id) => {
    const res = await confirmReceipt(ctx, {
      orderId: id,
      actor: { type: 'SYSTEM', id: 'auto-confirm' },
      reason: shipped.includes(id) ? 'no delivery signal: completed after the auto-complete days' : undefined,
    }).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'ORDER_STATE_CONFLICT') return { changed: false };
      throw err;
    });
    if (res.changed) confirmed++;
  });
  return { due: due.length, confirmed, failed: r.failed };
}
