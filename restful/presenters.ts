import type { Static } from '@sinclair/typebox';
import {
  itemsByOrder,
  type ListOrdersInput,
  type OrderItemRow,
  type OrderPage,
  type OrderRow,
  type OrderStatus,
} from '../internal/order/index.js';
import type { ListQuery } from './schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * The one representation of an order (schema `Order`) that every route returning an order uses:
 * ids as strings, money in fen, times in ISO 8601 UTC, items included.
 */
export function orderJson(o: OrderRow, items: OrderItemRow[]) {
  return {
    id: o.id.toString(),
    orderNo: o.orderNo,
    userId: o.userId.toString(),
    status: o.status as OrderStatus,
    currency: o.currency,
    itemsAmount: o.itemsAmount,
    shippingFee: o.shippingFee,
    discountAmount: o.discountAmount,
    totalAmount: o.totalAmount,
    paidAmount: o.paidAmount,
    refundedAmount: o.refundedAmount,
    address: o.address,
    note: o.note,
    version: o.version,
    payDeadline: o.payDeadline.toISOString(),
    paidAt: iso(o.paidAt),
    shippedAt: iso(o.shippedAt),
    deliveredAt: iso(o.deliveredAt),
    completedAt: iso(o.completedAt),
    cancelledAt: iso(o.cancelledAt),
    cancelReason: o.cancelReason,
    createdAt: o.createdAt.toISOString(),
    items: items.map((i) => ({
      skuId: i.skuId.toString(),
      title: i.title,
      unitPrice: i.unitPrice,
      quantity: i.quantity,
      lineTotal: i.lineTotal,
    })),
  };
}

/** A list query string as use-case input; `userId` scopes it (users: themselves; admins: optional filter). */
export function listInput(q: Static<typeof ListQuery>, userId: bigint | undefined): ListOrdersInput {
  return {
    userId,
    status: q.status,
    createdFrom: q.createdFrom ? new Date(q.createdFrom) : undefined,
    createdTo: q.createdTo ? new Date(q.createdTo) : undefined,
    cursor: q.cursor,
    limit: q.limit === undefined ? undefined : Number(q.limit),
  };
}

export function pageJson(page: OrderPage) {
  const byOrder = itemsByOrder(page.items);
  return { orders: page.orders.map((o) => orderJson(o, byOrder.get(o.id) ?? [])), nextCursor: page.nextCursor };
}
