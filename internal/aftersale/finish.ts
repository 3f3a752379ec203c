import { executeSql } from '../model/index.js';
import { getOrder, invalidateOrderLists, type Tx, transitionOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type AfterSaleResult, transitionAfterSale } from './transition.js';

/**
 * The provider confirmed an after-sale's refund: in one transaction the refund is settled (`settle`, from
 * internal/payment), the after-sale is REFUNDED and the order's refunded amount grows by it. An order
 * whose after-sales have now refunded everything it was paid moves on to REFUNDED.
 */
export async function finishAfterSaleRefund(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; amount: number; settle: (tx: Tx) => Promise<void> },
): Promise<AfterSaleResult> {
  const res = await transitionAfterSale(ctx, {
    afterSaleId: input.afterSaleId,
    events: ['complete_refund'],
    actor: { type: 'PROVIDER', id: 'refund' },
    reason: 'refund confirmed',
    apply: async (tx, a, _lines, order) => {
      await input.settle(tx);
      if (order.refundedAmount + input.amount > order.paidAmount) {
        throw new Error(
          `refund invariant broken: order ${order.id} would have ${order.refundedAmount + input.amount} of ${order.paidAmount} back`,
        );
      }
      await executeSql(tx, 'UPDATE orders SET refunded_amount = refunded_amount + ? WHERE id = ?', [
        input.amount,
        a.orderId,
      ]);
      return undefined;
    },
  });
  if (res.changed) await invalidateOrderLists(ctx, [res.afterSale.userId]);
  await closeFullyRefunded(ctx, res.afterSale.orderId);
  return res;
}

/**
 * DELIVERED | COMPLETED -> REFUNDED once the after-sales have given back all that was paid. Also run when
 * a refund's confirmation comes again, so a crash between the two transactions is mended by the retry.
 */
export async function closeFullyRefunded(ctx: ServiceContext, orderId: bigint): Promise<void> {
  const order = await getOrder(ctx.db, orderId);
  if (!order || order.paidAmount === 0 || order.refundedAmount !== order.paidAmount) return;
  if (order.status !== 'DELIVERED' && order.status !== 'COMPLETED') return;
  await transitionOrder(ctx, {
    orderId,
    event: 'complete_refund',
    actor: { type: 'SYSTEM', id: 'aftersale' },
    reason: 'after-sales refunded the whole order',
  });
}
