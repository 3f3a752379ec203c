import { AppError } from '../errorx/index.js';
import { executeSql } from '../model/index.js';
import {
  allArrived,
  decide,
  getItems,
  getOrder,
  invalidateOrderLists,
  lastArrival,
  lastShipped,
  type OrderStatus,
  parcelsOf,
  type Tx,
  transitionOrder,
} from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { readFulfilment, unitsStillToShip } from './fulfilment.js';
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
 * What an order's refunds mean for its status, once an after-sale refund is confirmed. Also run when a
 * refund's confirmation comes again, so a crash between the two transactions is mended by the retry.
 * - Everything paid is back: -> REFUNDED (from PAID, PARTIALLY_SHIPPED, SHIPPED, DELIVERED or COMPLETED).
 * - PARTIALLY_SHIPPED and the units still to ship were all refunded instead: -> SHIPPED, as if the last
 *   parcel had left (its time is the last parcel's), and on to DELIVERED when every parcel has arrived.
 */
export async function closeFullyRefunded(ctx: ServiceContext, orderId: bigint): Promise<void> {
  const order = await getOrder(ctx.db, orderId);
  if (!order || order.paidAmount === 0) return;
  if (order.refundedAmount === order.paidAmount) {
    if (decide(order.status as OrderStatus, 'complete_refund').kind !== 'move') return;
    await transitionOrder(ctx, {
      orderId,
      event: 'complete_refund',
      actor: { type: 'SYSTEM', id: 'aftersale' },
      reason: 'after-sales refunded the whole order',
    });
    return;
  }
  const actor = { type: 'SYSTEM' as const, id: 'aftersale' };
  if (order.status === 'PARTIALLY_SHIPPED') {
    if (unitsStillToShip(await readFulfilment(ctx.db, orderId, await getItems(ctx.db, orderId))) > 0) return;
    await transitionOrder(ctx, {
      orderId,
      event: 'ship',
      actor,
      reason: 'the units left to ship were refunded',
      apply: async (tx, o) => {
        if (unitsStillToShip(await readFulfilment(tx, o.id, await getItems(tx, o.id))) > 0) {
          throw new AppError('CONCURRENT_MODIFICATION', 'units to ship changed; retry');
        }
        return { shippedAt: lastShipped(await parcelsOf(tx, o.id)) ?? new Date() };
      },
    });
  } else if (order.status !== 'SHIPPED') return;
  // Every parcel may have arrived already: then the order is delivered too, as of the last arrival. (Also
  // what a repeated confirmation mends when a crash came between the two moves.)
  const parcels = await parcelsOf(ctx.db, orderId);
  if (!allArrived(parcels)) return;
  await transitionOrder(ctx, {
    orderId,
    event: 'deliver',
    actor,
    reason: 'every parcel had arrived',
    apply: async () => ({ deliveredAt: lastArrival(parcels) ?? new Date() }),
  });
}
