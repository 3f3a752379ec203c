import { AppError } from '../internal/errorx/index.js';
import { parseId } from '../internal/ids/index.js';
import {
  isOrderStatus,
  type OrderExtras,
  type OrderItemRow,
  type OrderRow,
  type OrderStatus,
} from '../internal/order/index.js';
import { type Order, OrderStatus as PbOrderStatus } from '../pkg/gen/qianfan/order/v1/order.js';

/** Parses a decimal id field; empty, malformed or past 64 bits is INVALID_ARGUMENT naming the field. */
export function idField(value: string, field: string): bigint {
  const id = /^[1-9]/.test(value) ? parseId(value) : undefined;
  if (id === undefined)
    throw new AppError('VALIDATION_FAILED', `${field} must be a decimal 64-bit id, got '${value.slice(0, 24)}'`);
  return id;
}

export function optionalId(value: string, field: string): bigint | undefined {
  return value === '' ? undefined : idField(value, field);
}

const PREFIX = 'ORDER_STATUS_';

/** The status filter of a request: the enum field, else the deprecated text field of release 0.1. */
export function statusFilter(status: PbOrderStatus, legacy: string): OrderStatus | undefined {
  if (status === PbOrderStatus.UNSPECIFIED) {
    if (legacy === '') return undefined;
    if (!isOrderStatus(legacy)) throw new AppError('VALIDATION_FAILED', `unknown status '${legacy.slice(0, 32)}'`);
    return legacy;
  }
  const name = status.slice(PREFIX.length);
  if (!status.startsWith(PREFIX) || !isOrderStatus(name)) throw new AppError('VALIDATION_FAILED', 'unknown status');
  return name;
}

const time = (d: Date | null) => (d ? d.toISOString() : undefined);

/** A status as the enum; '' (an order's creation has no previous status) is UNSPECIFIED. */
export const statusEnum = (s: string): PbOrderStatus =>
  s === '' ? PbOrderStatus.UNSPECIFIED : (`${PREFIX}${s}` as PbOrderStatus);

const none: OrderExtras = { payments: [], refunds: [], shipments: [], timeline: [] };

/**
 * The one gRPC representation of an order. With `extras` (GetOrder) it is the whole order; lists and the
 * answers to changes leave payments, refunds, shipments and timeline empty.
 */
export function orderMessage(o: OrderRow, items: OrderItemRow[], extras: OrderExtras = none): Order {
  const payDeadline = o.payDeadline.toISOString();
  const createdAt = o.createdAt.toISOString();
  return {
    id: o.id.toString(),
    orderNo: o.orderNo,
    userId: o.userId.toString(),
    status: `${PREFIX}${o.status}` as PbOrderStatus,
    legacyStatus: o.status,
    currency: o.currency,
    itemsAmount: String(o.itemsAmount),
    shippingFee: String(o.shippingFee),
    discountAmount: String(o.discountAmount),
    totalAmount: String(o.totalAmount),
    paidAmount: String(o.paidAmount),
    refundedAmount: String(o.refundedAmount),
    address: { postcode: '', ...o.address },
    note: o.note,
    version: o.version,
    payDeadline,
    legacyPayDeadline: payDeadline,
    createdAt,
    legacyCreatedAt: createdAt,
    paidAt: time(o.paidAt),
    shippedAt: time(o.shippedAt),
    deliveredAt: time(o.deliveredAt),
    completedAt: time(o.completedAt),
    cancelledAt: time(o.cancelledAt),
    cancelReason: o.cancelReason ?? '',
    source: o.source,
    payments: extras.payments.map((p) => ({
      ...p,
      amount: String(p.amount),
      failureReason: p.failureReason ?? '',
      paidAt: p.paidAt ?? undefined,
    })),
    refunds: extras.refunds.map((r) => ({ ...r, amount: String(r.amount), refundedAt: r.refundedAt ?? undefined })),
    shipments: extras.shipments.map((x) => ({ ...x, deliveredAt: x.deliveredAt ?? undefined, items: x.items ?? [] })),
    afterSales: (extras.afterSales ?? []).map((a) => ({
      id: a.id,
      orderId: o.id.toString(),
      userId: o.userId.toString(),
      kind: a.kind,
      status: a.status,
      reason: a.reason,
      evidence: [],
      lines: a.lines.map((l) => ({ ...l, amount: String(l.amount) })),
      itemsAmount: String(a.itemsAmount),
      shippingAmount: String(a.shippingAmount),
      total: String(a.total),
      refundId: a.refundId ?? '',
      returnCarrier: '',
      returnTrackingNo: '',
      reviewNote: '',
      version: 0,
      createdAt: a.createdAt,
      updatedAt: a.updatedAt,
      goods: a.goods ?? 'DELIVERED',
      shipmentId: a.shipmentId ?? '',
    })),
    timeline: extras.timeline.map((t) => ({ ...t, from: statusEnum(t.from), to: statusEnum(t.to) })),
    items: items.map((i) => ({
      id: i.id.toString(),
      skuId: i.skuId.toString(),
      title: i.title,
      unitPrice: String(i.unitPrice),
      quantity: i.quantity,
      lineTotal: String(i.lineTotal),
    })),
  };
}
