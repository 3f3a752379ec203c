import { type LineFulfilment, readFulfilment, unitsStillToShip } from '../aftersale/index.js';
import { AppError, isDuplicateKey } from '../errorx/index.js';
import { shipmentItems, shipments } from '../model/index.js';
import {
  type Actor,
  AMENDMENT_EVENTS,
  changeOrder,
  type OrderItemRow,
  parcelsOf,
  type Seal,
  type TransitionResult,
  type Tx,
} from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface ShipOrderInput {
  orderId: bigint;
  carrier: string;
  trackingNo: string;
  /** The units this parcel carries; absent: every unit left to ship. */
  lines?: Array<{ orderItemId: bigint; quantity: number }>;
  actor: Actor;
  seal?: Seal<TransitionResult>;
}

/** Statuses an order ships from: paid, or with parcels sent and units left. */
export const SHIPPABLE_STATUSES = ['PAID', 'PARTIALLY_SHIPPED'] as const;

/** What is wrong with a carrier and tracking number, or undefined when both are well formed. */
export function shipmentProblem(carrier: string, trackingNo: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{2,32}$/.test(carrier)) return 'carrier must be 2-32 letters, digits, _ or -';
  if (!/^[A-Za-z0-9-]{4,64}$/.test(trackingNo)) return 'trackingNo must be 4-64 letters, digits or -';
  return undefined;
}

/**
 * Admin: one parcel with some units of some lines (or all left). The order is PARTIALLY_SHIPPED while
 * units are left to ship and SHIPPED with the parcel that takes the last (its shippedAt is that parcel's).
 * Units left = bought - in parcels - refunded before shipping (internal/aftersale/fulfilment.ts), read
 * again with the order row locked, so a refund of the same units and this parcel cannot both take them.
 * The same carrier and tracking number again on the same order is a no-op (a retried request or CSV line).
 */
export async function shipOrder(ctx: ServiceContext, input: ShipOrderInput): Promise<TransitionResult> {
  const problem = shipmentProblem(input.carrier, input.trackingNo);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  validateLines(input.lines);
  const now = new Date();
  let parcel: Map<bigint, number> = new Map();
  let left: LineFulfilment[] = [];
  let lineItems: OrderItemRow[] = [];
  return changeOrder(ctx, {
    orderId: input.orderId,
    actor: input.actor,
    reason: `${input.carrier} ${input.trackingNo}`,
    seal: input.seal,
    plan: async (order, items) => {
      const sent = await parcelsOf(ctx.db, order.id);
      if (sent.some((p) => p.carrier === input.carrier && p.trackingNo === input.trackingNo)) return { kind: 'noop' };
      if (!(SHIPPABLE_STATUSES as readonly string[]).includes(order.status)) {
        throw new AppError('ORDER_STATE_CONFLICT', `cannot ship an order that is ${order.status}`, {
          currentStatus: order.status,
        });
      }
      lineItems = items;
      left = await readFulfilment(ctx.db, order.id, items);
      parcel = parcelOf(left, input.lines);
      // Units whose refund awaits review count as still to ship: a rejection sends them after all.
      const remaining = unitsStillToShip(left) - [...parcel.values()].reduce((a, b) => a + b, 0);
      const to = remaining === 0 ? 'SHIPPED' : 'PARTIALLY_SHIPPED';
      const type = to === order.status ? AMENDMENT_EVENTS.parcelShipped : undefined;
      const units = [...parcel.values()].reduce((a, b) => a + b, 0);
      return {
        kind: 'move',
        to,
        type,
        set: to === 'SHIPPED' ? { shippedAt: now } : {},
        reason: `${input.carrier} ${input.trackingNo}: ${units} unit(s)${remaining > 0 ? `, ${remaining} left to ship` : ''}`,
      };
    },
    apply: async (tx, order) => {
      const again = await readFulfilment(tx, order.id, lineItems);
      if (JSON.stringify(again, big) !== JSON.stringify(left, big)) {
        throw new AppError('CONCURRENT_MODIFICATION', 'the units left to ship changed while this request ran; retry');
      }
      const id = ctx.ids.next();
      await insertShipment(tx, {
        id,
        orderId: order.id,
        carrier: input.carrier,
        trackingNo: input.trackingNo,
        status: 'SHIPPED',
        shippedAt: now,
      });
      await tx
        .insert(shipmentItems)
        .values(
          [...parcel].map(([orderItemId, quantity]) => ({ shipmentId: id, orderItemId, orderId: order.id, quantity })),
        );
      return undefined;
    },
  });
}

/** The parcel's units per line: those asked for (each at most what is left of its line), or all left. */
function parcelOf(left: LineFulfilment[], lines: ShipOrderInput['lines']): Map<bigint, number> {
  const byLine = new Map(left.map((l) => [l.orderItemId, l]));
  if (!lines) {
    const all = new Map(left.filter((l) => l.leftToShip > 0).map((l) => [l.orderItemId, l.leftToShip]));
    if (all.size === 0) throw new AppError('SHIPMENT_UNITS_UNAVAILABLE', 'nothing is left to ship on this order');
    return all;
  }
  const parcel = new Map<bigint, number>();
  for (const l of lines) {
    const line = byLine.get(l.orderItemId);
    if (!line) throw new AppError('VALIDATION_FAILED', `line ${l.orderItemId} is not on this order`);
    if (l.quantity > line.leftToShip) {
      throw new AppError(
        'SHIPMENT_UNITS_UNAVAILABLE',
        `line ${l.orderItemId} has ${line.leftToShip} unit(s) left to ship (bought ${line.bought}, shipped ${line.shipped}, refunded ${line.refundedUnshipped})`,
        { orderItemId: String(l.orderItemId), leftToShip: line.leftToShip },
      );
    }
    parcel.set(l.orderItemId, l.quantity);
  }
  return parcel;
}

function validateLines(lines: ShipOrderInput['lines']) {
  if (lines === undefined) return;
  if (lines.length === 0 || lines.length > 100) throw new AppError('VALIDATION_FAILED', 'lines: 1 to 100 order lines');
  const seen = new Set<bigint>();
  for (const l of lines) {
    if (!Number.isSafeInteger(l.quantity) || l.quantity < 1 || l.quantity > 1_000_000) {
      throw new AppError('VALIDATION_FAILED', 'each line needs a quantity of at least 1');
    }
    if (seen.has(l.orderItemId)) throw new AppError('VALIDATION_FAILED', `line ${l.orderItemId} is named twice`);
    seen.add(l.orderItemId);
  }
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

async function insertShipment(tx: Tx, row: typeof shipments.$inferInsert) {
  try {
    await tx.insert(shipments).values(row);
  } catch (err) {
    if (isDuplicateKey(err)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `tracking number ${row.carrier} ${row.trackingNo} is already used by another shipment`,
      );
    }
    throw err;
  }
}
