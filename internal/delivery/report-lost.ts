import { type AfterSaleResult, parcelUnits, RELEASED_STATUSES, requestAfterSale } from '../aftersale/index.js';
import { AppError, rejectInvalidText } from '../errorx/index.js';
import { executeSql, selectSql } from '../model/index.js';
import {
  type Actor,
  AMENDMENT_EVENTS,
  allArrived,
  changeOrder,
  findParcel,
  type OrderPlan,
  type OrderStatus,
  type Parcel,
  parcelsOf,
  sameParcels,
  type TransitionResult,
} from '../order/index.js';
import { approveAfterSaleRequest } from '../payment/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface ReportLostInput {
  orderId: bigint;
  shipmentId: bigint;
  actor: Actor;
  /** What happened, for the history and the after-sale (1-120 characters). */
  reason: string;
}

/**
 * An operator reports a parcel lost in transit. First the parcel is LOST (an order change: the order
 * becomes DELIVERED when it was SHIPPED and every other parcel has arrived; otherwise it keeps its status
 * and `order.parcel_lost` is published). Then a refund-only after-sale for the parcel's units is opened
 * and approved, so its refund goes to the provider. Each step is idempotent: reporting the same parcel
 * again finishes what a crash between the steps left undone and changes nothing else.
 */
export async function reportParcelLost(
  ctx: ServiceContext,
  input: ReportLostInput,
): Promise<{ order: TransitionResult; afterSale: AfterSaleResult }> {
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 120)
    throw new AppError('VALIDATION_FAILED', 'reason is 1 to 120 characters');
  rejectInvalidText(reason, 'reason');
  let before: Parcel[] = [];
  let lost: Parcel | undefined;
  const order = await changeOrder(ctx, {
    orderId: input.orderId,
    actor: input.actor,
    reason,
    plan: async (o): Promise<OrderPlan> => {
      before = await parcelsOf(ctx.db, o.id);
      lost = findParcel(before, o.id, { shipmentId: input.shipmentId });
      if (lost.status === 'LOST') return { kind: 'noop' };
      if (lost.status !== 'SHIPPED') {
        throw new AppError('SHIPMENT_STATE_CONFLICT', `parcel ${lost.id} was delivered; it cannot be lost`, {
          shipmentStatus: lost.status,
        });
      }
      const name = `${lost.carrier} ${lost.trackingNo}`;
      const after = before.map((p) => (p === lost ? { ...p, status: 'LOST' as const } : p));
      return o.status === 'SHIPPED' && allArrived(after)
        ? {
            kind: 'move',
            to: 'DELIVERED',
            set: { deliveredAt: new Date() },
            reason: `parcel lost: ${name} (${reason})`,
          }
        : {
            kind: 'move',
            to: o.status as OrderStatus,
            type: AMENDMENT_EVENTS.parcelLost,
            reason: `parcel lost: ${name} (${reason})`,
          };
    },
    apply: async (tx, o) => {
      if (!sameParcels(await parcelsOf(tx, o.id), before)) {
        throw new AppError('CONCURRENT_MODIFICATION', "the order's parcels changed while this request ran; retry");
      }
      await executeSql(tx, "UPDATE shipments SET status = 'LOST' WHERE id = ?", [input.shipmentId]);
      return undefined;
    },
  });
  const afterSale = await lostParcelAfterSale(ctx, order, input, reason);
  return { order, afterSale };
}

/** The parcel's refund-only after-sale: the live one if a report already opened it, else a new one; approved. */
async function lostParcelAfterSale(
  ctx: ServiceContext,
  order: TransitionResult,
  input: ReportLostInput,
  reason: string,
): Promise<AfterSaleResult> {
  const [open] = await selectSql<{ id: string }>(
    ctx.db,
    'SELECT id FROM after_sales WHERE order_id = ? AND shipment_id = ? AND status NOT IN (?) ORDER BY id LIMIT 1',
    [input.orderId, input.shipmentId, [...RELEASED_STATUSES]],
  );
  const id =
    open !== undefined
      ? BigInt(open.id)
      : (
          await requestAfterSale(ctx, {
            orderId: input.orderId,
            userId: order.order.userId,
            kind: 'REFUND_ONLY',
            reason: `parcel lost: ${reason}`,
            lines: await parcelUnits(ctx.db, input.shipmentId),
            lostShipmentId: input.shipmentId,
            actor: input.actor,
          })
        ).afterSale.id;
  return approveAfterSaleRequest(ctx, { afterSaleId: id, actor: input.actor, note: 'parcel lost in transit' });
}
