import { AppError } from '../errorx/index.js';
import { selectSql, type Tx } from '../model/index.js';

/**
 * A parcel of an order as shipping, delivery and after-sales read it. The rules on an order's parcels live
 * here, below internal/delivery and internal/aftersale, which both decide from them.
 */
export interface Parcel {
  id: bigint;
  carrier: string;
  trackingNo: string;
  status: 'SHIPPED' | 'DELIVERED' | 'LOST';
  shippedAt: Date;
  deliveredAt: Date | null;
}

/** The order's parcels, oldest first. */
export async function parcelsOf(tx: Tx, orderId: bigint): Promise<Parcel[]> {
  const rows = await selectSql<{
    id: string;
    carrier: string;
    tracking_no: string;
    status: Parcel['status'];
    shipped_at: Date;
    delivered_at: Date | null;
  }>(
    tx,
    'SELECT id, carrier, tracking_no, status, shipped_at, delivered_at FROM shipments WHERE order_id = ? ORDER BY id',
    [orderId],
  );
  return rows.map((r) => ({
    id: BigInt(r.id),
    carrier: r.carrier,
    trackingNo: r.tracking_no,
    status: r.status,
    shippedAt: r.shipped_at,
    deliveredAt: r.delivered_at,
  }));
}

/** The parcel named by id, or by tracking number (and carrier, when given), among the order's. */
export function findParcel(
  parcels: Parcel[],
  orderId: bigint,
  which: { shipmentId?: bigint; trackingNo?: string; carrier?: string },
): Parcel {
  const p = parcels.find((x) =>
    which.shipmentId !== undefined
      ? x.id === which.shipmentId
      : x.trackingNo === which.trackingNo && (which.carrier === undefined || x.carrier === which.carrier),
  );
  if (!p) {
    const name =
      which.shipmentId !== undefined ? String(which.shipmentId) : `${which.carrier ?? ''} ${which.trackingNo}`;
    throw new AppError('SHIPMENT_NOT_FOUND', `order ${orderId} has no parcel ${name.trim()}`);
  }
  return p;
}

/** Every parcel not lost is delivered, and at least one is: the order, fully shipped, is delivered. */
export const allArrived = (parcels: Parcel[]) =>
  parcels.some((p) => p.status === 'DELIVERED') && parcels.every((p) => p.status !== 'SHIPPED');

/** When the last parcel left. */
export const lastShipped = (parcels: Parcel[]): Date | undefined =>
  parcels.reduce<Date | undefined>((at, p) => (at === undefined || p.shippedAt > at ? p.shippedAt : at), undefined);

/** When the last parcel arrived. */
export const lastArrival = (parcels: Parcel[]): Date | undefined =>
  parcels.reduce<Date | undefined>(
    (at, p) => (p.deliveredAt !== null && (at === undefined || p.deliveredAt > at) ? p.deliveredAt : at),
    undefined,
  );

/** Same parcels, same states: what a plan read still holds under the lock. */
export const sameParcels = (a: Parcel[], b: Parcel[]) =>
  a.length === b.length && a.every((p, i) => p.id === b[i]!.id && p.status === b[i]!.status);
