import { AppError } from '../internal/errorx/index.js';
import { parseId } from '../internal/ids/index.js';
import type { OrderItemRow, OrderRow } from '../internal/order/index.js';
import type { Order } from '../pkg/gen/qianfan/order/v1/order.js';

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

export function orderMessage(o: OrderRow, items?: OrderItemRow[]): Order {
  return {
    id: o.id.toString(),
    orderNo: o.orderNo,
    userId: o.userId.toString(),
    status: o.status,
    currency: o.currency,
    totalAmount: String(o.totalAmount),
    paidAmount: String(o.paidAmount),
    refundedAmount: String(o.refundedAmount),
    address: { postcode: '', ...o.address },
    note: o.note,
    version: o.version,
    payDeadline: o.payDeadline.toISOString(),
    createdAt: o.createdAt.toISOString(),
    items: (items ?? []).map((i) => ({
      skuId: i.skuId.toString(),
      title: i.title,
      unitPrice: String(i.unitPrice),
      quantity: i.quantity,
      lineTotal: String(i.lineTotal),
    })),
  };
}
