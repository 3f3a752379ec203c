import { selectSql, type Tx } from '../model/index.js';
import type { OrderItemRow } from '../order/index.js';
import { OPEN_STATUSES, RELEASED_STATUSES } from './rules.js';

/** One order line as shipping sees it: bought, in parcels, held by refunds of goods that never left, left to ship. */
export interface LineFulfilment {
  orderItemId: bigint;
  bought: number;
  shipped: number;
  /** Units of live after-sales for goods not shipped (REFUND_ONLY of UNSHIPPED): they do not ship. */
  refundedUnshipped: number;
  /** Of those, units whose request awaits the merchant: if it is rejected or withdrawn, they ship after all. */
  awaitingReview: number;
  leftToShip: number;
}

/**
 * Units left to ship per line = bought - in any parcel (lost ones too) - held by live after-sales of
 * unshipped goods. Pure: shipping (internal/delivery) and after-sales of unshipped goods both take from it,
 * each with the order row locked, so the two can never take the same unit.
 */
export function fulfilment(
  items: Array<Pick<OrderItemRow, 'id' | 'quantity'>>,
  shipped: Map<bigint, number>,
  refundedUnshipped: Map<bigint, { units: number; awaitingReview: number }>,
): LineFulfilment[] {
  return items.map((i) => {
    const s = shipped.get(i.id) ?? 0;
    const r = refundedUnshipped.get(i.id) ?? { units: 0, awaitingReview: 0 };
    const left = i.quantity - s - r.units;
    if (left < 0) {
      throw new Error(
        `fulfilment invariant broken: line ${i.id} has ${s} shipped and ${r.units} refunded of ${i.quantity}`,
      );
    }
    return {
      orderItemId: i.id,
      bought: i.quantity,
      shipped: s,
      refundedUnshipped: r.units,
      awaitingReview: r.awaitingReview,
      leftToShip: left,
    };
  });
}

/** The order's lines as shipping sees them, from MySQL (in a transaction that holds the order row, to decide). */
export async function readFulfilment(
  tx: Tx,
  orderId: bigint,
  items: Array<Pick<OrderItemRow, 'id' | 'quantity'>>,
): Promise<LineFulfilment[]> {
  const parcels = await selectSql<{ order_item_id: string; n: string }>(
    tx,
    'SELECT order_item_id, SUM(quantity) AS n FROM shipment_items WHERE order_id = ? GROUP BY order_item_id',
    [orderId],
  );
  const held = await selectSql<{ order_item_id: string; n: string; open: string }>(
    tx,
    `SELECT l.order_item_id, SUM(l.quantity) AS n, SUM(CASE WHEN a.status IN (?) THEN l.quantity ELSE 0 END) AS open
       FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id
      WHERE l.order_id = ? AND a.goods = 'UNSHIPPED' AND a.status NOT IN (?)
      GROUP BY l.order_item_id`,
    [[...OPEN_STATUSES], orderId, [...RELEASED_STATUSES]],
  );
  return fulfilment(
    items,
    new Map(parcels.map((r) => [BigInt(r.order_item_id), Number(r.n)])),
    new Map(held.map((r) => [BigInt(r.order_item_id), { units: Number(r.n), awaitingReview: Number(r.open) }])),
  );
}

/** Units left to ship over all lines. */
export const unitsLeftToShip = (lines: LineFulfilment[]) => lines.reduce((n, l) => n + l.leftToShip, 0);

/**
 * Units that may still ship: left to ship, and those whose refund before shipping awaits review. An order is
 * fully shipped (SHIPPED) only when this is 0.
 */
export const unitsStillToShip = (lines: LineFulfilment[]) =>
  lines.reduce((n, l) => n + l.leftToShip + l.awaitingReview, 0);

/** A parcel's units per line (shipment_items), for a lost parcel's after-sale. */
export async function parcelUnits(
  tx: Tx,
  shipmentId: bigint,
): Promise<Array<{ orderItemId: bigint; quantity: number }>> {
  const rows = await selectSql<{ order_item_id: string; quantity: number }>(
    tx,
    'SELECT order_item_id, quantity FROM shipment_items WHERE shipment_id = ?',
    [shipmentId],
  );
  return rows.map((r) => ({ orderItemId: BigInt(r.order_item_id), quantity: Number(r.quantity) }));
}
