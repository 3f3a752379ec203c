import { executeSql, selectSql, type Tx } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { orderDetailCache, orderRevision } from './detail-cache.js';

/**
 * A change to an order's payment attempts or refunds that is not an order transition (an attempt opened,
 * failed or closed; a refund refused, retried, or opened for money the order cannot keep). `write` runs in
 * one transaction with a bump of the order's `side_rev`, taken first so the order row is locked before
 * anything else, as in a transition; after the commit the cached whole order is dropped and a fill of an
 * older revision is refused, so reads and ETags show the change at once.
 */
export async function changeOrderSide<T>(
  ctx: ServiceContext,
  orderId: bigint,
  write: (tx: Tx) => Promise<T>,
): Promise<T> {
  const { result, revision } = await ctx.db.transaction(async (tx) => {
    await executeSql(tx, 'UPDATE orders SET side_rev = side_rev + 1 WHERE id = ?', [orderId]);
    const result = await write(tx);
    const [row] = await selectSql<{ version: number; side_rev: number }>(
      tx,
      'SELECT version, side_rev FROM orders WHERE id = ?',
      [orderId],
    );
    return { result, revision: row ? orderRevision(Number(row.version), Number(row.side_rev)) : undefined };
  });
  if (revision !== undefined) await orderDetailCache(ctx).invalidate(orderId.toString(), revision);
  return result;
}
