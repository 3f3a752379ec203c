import { asc, eq } from 'drizzle-orm';
import { type Db, orderStatusLog, payments, refunds, shipments } from '../model/index.js';

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

export interface OrderExtras {
  payments: PaymentView[];
  refunds: RefundView[];
  shipments: ShipmentView[];
  timeline: TimelineEntry[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An order's payment attempts, refunds, shipments and status timeline, oldest first, from MySQL. */
export async function loadOrderExtras(db: Db, orderId: bigint): Promise<OrderExtras> {
  const [pays, refs, ships, log] = await Promise.all([
    db.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(asc(payments.id)),
    db.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(asc(refunds.id)),
    db.select().from(shipments).where(eq(shipments.orderId, orderId)).orderBy(asc(shipments.id)),
    db.select().from(orderStatusLog).where(eq(orderStatusLog.orderId, orderId)).orderBy(asc(orderStatusLog.id)),
  ]);
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
  };
}

/**
 * The buyer's view of the timeline: who acted is named for the buyer and the system, not for staff (an
 * admin's id is internal).
 */
export function buyerTimeline(timeline: TimelineEntry[]): TimelineEntry[] {
  return timeline.map((t) => (t.actorType === 'ADMIN' ? { ...t, actorId: '' } : t));
}
