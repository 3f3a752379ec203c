import type { OrderItemRow, OrderRow, OrderStatus } from '../internal/order/index.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** An order as the API shows it: ids as strings, money in fen, times in ISO 8601 UTC. */
export function orderJson(o: OrderRow, items?: OrderItemRow[]) {
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
    ...(items
      ? {
          items: items.map((i) => ({
            skuId: i.skuId.toString(),
            title: i.title,
            unitPrice: i.unitPrice,
            quantity: i.quantity,
            lineTotal: i.lineTotal,
          })),
        }
      : {}),
  };
}
