import { AppError } from '../errorx/index.js';
import { executeSql } from '../model/index.js';
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
  type Seal,
  sameParcels,
  type TransitionResult,
} from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface MarkDeliveredInput {
  orderId: bigint;
  actor: Actor;
  at?: Date;
  /** The parcel, by id or by tracking number (and carrier); absent: every parcel still on its way. */
  shipmentId?: bigint;
  trackingNo?: string;
  carrier?: string;
  seal?: Seal<TransitionResult>;
}

/**
 * A parcel arrived (logistics update or admin). The order is DELIVERED when it is SHIPPED (nothing left to
 * ship) and every parcel not lost has arrived; otherwise its status stays and `order.parcel_delivered` is
 * published. A parcel already delivered is a no-op (a repeated update).
 */
export async function markDelivered(ctx: ServiceContext, input: MarkDeliveredInput): Promise<TransitionResult> {
  const at = input.at ?? new Date();
  const named = input.shipmentId !== undefined || input.trackingNo !== undefined;
  let before: Parcel[] = [];
  let arriving: Parcel[] = [];
  return changeOrder(ctx, {
    orderId: input.orderId,
    actor: input.actor,
    reason: 'delivered',
    seal: input.seal,
    plan: async (order): Promise<OrderPlan> => {
      before = await parcelsOf(ctx.db, order.id);
      if (named) {
        const p = findParcel(before, order.id, input);
        if (p.status === 'DELIVERED') return { kind: 'noop' };
        if (p.status === 'LOST') {
          throw new AppError('SHIPMENT_STATE_CONFLICT', `parcel ${p.id} was reported lost`, {
            shipmentStatus: p.status,
          });
        }
        arriving = [p];
      } else {
        arriving = before.filter((p) => p.status === 'SHIPPED');
        if (arriving.length === 0 && ['DELIVERED', 'COMPLETED'].includes(order.status)) return { kind: 'noop' };
      }
      const after = before.map((p) => (arriving.includes(p) ? { ...p, status: 'DELIVERED' as const } : p));
      // One rule: a SHIPPED order whose parcels have all arrived is delivered, also when none arrives now
      // (a crash between a refund's two moves left it SHIPPED).
      const done = order.status === 'SHIPPED' && allArrived(after);
      if (!done && (arriving.length === 0 || (order.status !== 'SHIPPED' && order.status !== 'PARTIALLY_SHIPPED'))) {
        throw new AppError('ORDER_STATE_CONFLICT', `cannot deliver an order that is ${order.status}`, {
          currentStatus: order.status,
        });
      }
      const names = arriving.map((p) => `${p.carrier} ${p.trackingNo}`).join(', ') || 'every parcel had arrived';
      return done
        ? { kind: 'move', to: 'DELIVERED', set: { deliveredAt: at }, reason: `delivered: ${names}` }
        : {
            kind: 'move',
            to: order.status as OrderStatus,
            type: AMENDMENT_EVENTS.parcelDelivered,
            reason: `parcel delivered: ${names}`,
          };
    },
    apply: async (tx, order) => {
      if (!sameParcels(await parcelsOf(tx, order.id), before)) {
        throw new AppError('CONCURRENT_MODIFICATION', "the order's parcels changed while this request ran; retry");
      }
      if (arriving.length > 0) {
        await executeSql(tx, "UPDATE shipments SET status = 'DELIVERED', delivered_at = ? WHERE id IN (?)", [
          at,
          arriving.map((p) => p.id),
        ]);
      }
      return undefined;
    },
  });
}
