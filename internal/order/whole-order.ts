import { asc, eq, inArray } from 'drizzle-orm';
import {
  afterSaleLines,
  afterSales,
  type Db,
  orderStatusLog,
  payments,
  refunds,
  shipmentItems,
  shipments,
} from '../model/index.js';

// The parts of an order that live in other tables, in the shape every transport shows them: ids as
// strings, money in fen, times in ISO 8601 UTC. They are cached with the order (detail-cache.ts).

export interface PaymentView {
  id: string;
  provider: string;
  status: string;
  amount: number;
  currency: string;
  /** The one succeeded attempt that paid the order (others that succeeded are refunded). */
  kept: boolean;
  failureReason: string | null;
  createdAt: string;
  paidAt: string | null;
}

export interface RefundView {
  id: string;
  paymentId: string;
  kind: string;
  status: string;
  amount: number;
  reason: string;
  createdAt: string;
  refundedAt: string | null;
}

export interface ShipmentView {
  id: string;
  carrier: string;
  trackingNo: string;
  status: string;
  shippedAt: string;
  deliveredAt: string | null;
  /** The units of each line this parcel carries (absent in a cached entry written by an older release). */
  items?: Array<{ orderItemId: string; quantity: number }>;
}

export interface TimelineEntry {
  version: number;
  at: string;
  /** '' for the order's creation. */
  from: string;
  to: string;
  actorType: string;
  actorId: string;
  reason: string;
}

/** An after-sale as the order shows it (internal/aftersale owns it; GET /v1/after-sales/{id} has its history). */
export interface AfterSaleSummary {
  id: string;
  kind: string;
  status: string;
  /** DELIVERED, UNSHIPPED or LOST (absent in a cached entry written by an older release). */
  goods?: string;
  shipmentId?: string | null;
  reason: string;
  lines: Array<{ orderItemId: string; quantity: number; amount: number }>;
  itemsAmount: number;
  shippingAmount: number;
  total: number;
  refundId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface OrderExtras {
  payments: PaymentView[];
  refunds: RefundView[];
  shipments: ShipmentView[];
  timeline: TimelineEntry[];
  /** Absent in a cached entry written by an older release: read it as none. */
  afterSales?: AfterSaleSummary[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An order's payment attempts, refunds, shipments and status timeline, oldest first, from MySQL. */
export async function loadOrderExtras(db: Db, orderId: bigint): Promise<OrderExtras> {
  const [pays, refs, ships, log, sales] = await Promise.all([
    db.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(asc(payments.id)),
    db.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(asc(refunds.id)),
    db.select().from(shipments).where(eq(shipments.orderId, orderId)).orderBy(asc(shipments.id)),
    db.select().from(orderStatusLog).where(eq(orderStatusLog.orderId, orderId)).orderBy(asc(orderStatusLog.id)),
    db.select().from(afterSales).where(eq(afterSales.orderId, orderId)).orderBy(asc(afterSales.id)),
  ]);
  const parcelItems =
    ships.length === 0 ? [] : await db.select().from(shipmentItems).where(eq(shipmentItems.orderId, orderId));
  const saleLines =
    sales.length === 0
      ? []
      : await db
          .select()
          .from(afterSaleLines)
          .where(
            inArray(
              afterSaleLines.afterSaleId,
              sales.map((a) => a.id),
            ),
          );
  return {
    payments: pays.map((p) => ({
      id: String(p.id),
      provider: p.provider,
      status: p.status,
      amount: p.amount,
      currency: p.currency,
      kept: p.succeededOrderId !== null,
      failureReason: p.failureReason,
      createdAt: p.createdAt.toISOString(),
      paidAt: iso(p.paidAt),
    })),
    refunds: refs.map((r) => ({
      id: String(r.id),
      paymentId: String(r.paymentId),
      kind: r.kind,
      status: r.status,
      amount: r.amount,
      reason: r.reason,
      createdAt: r.createdAt.toISOString(),
      refundedAt: iso(r.refundedAt),
    })),
    shipments: ships.map((s) => ({
      id: String(s.id),
      carrier: s.carrier,
      trackingNo: s.trackingNo,
      status: s.status,
      shippedAt: s.shippedAt.toISOString(),
      deliveredAt: iso(s.deliveredAt),
      items: parcelItems
        .filter((i) => i.shipmentId === s.id)
        .map((i) => ({ orderItemId: String(i.orderItemId), quantity: i.quantity })),
    })),
    timeline: log.map((h) => ({
      version: h.version,
      at: h.createdAt.toISOString(),
      from: h.fromStatus,
      to: h.toStatus,
      actorType: h.actorType,
      actorId: h.actorId,
      reason: h.reason,
    })),
    afterSales: sales.map((a) => ({
      id: String(a.id),
      kind: a.kind,
      status: a.status,
      goods: a.goods,
      shipmentId: a.shipmentId === null ? null : String(a.shipmentId),
      reason: a.reason,
      lines: saleLines
        .filter((l) => l.afterSaleId === a.id)
        .map((l) => ({ orderItemId: String(l.orderItemId), quantity: l.quantity, amount: l.amount })),
      itemsAmount: a.itemsAmount,
      shippingAmount: a.shippingAmount,
      total: a.itemsAmount + a.shippingAmount,
      refundId: a.refundId === null ? null : String(a.refundId),
      createdAt: a.createdAt.toISOString(),
      updatedAt: a.updatedAt.toISOString(),
    })),
  };
}

/**
 * The buyer's view of the timeline: who acted is named for the buyer and the system, not for staff (an
 * admin's id is internal).
 */
export function buyerTimeline(timeline: TimelineEntry[]): TimelineEntry[] {
  return timeline.map((t) => (t.actorType === 'ADMIN' ? { ...t, actorId: '' } : t));
}
