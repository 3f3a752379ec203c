import type {
  AfterSaleLineRow,
  AfterSaleLogRow,
  AfterSaleRow,
  AfterSaleStatus,
  Quote,
} from '../internal/aftersale/index.js';

/** The one representation of an after-sale (schema `AfterSale`); with its history when given. */
export function afterSaleJson(a: AfterSaleRow, lines: AfterSaleLineRow[], log?: AfterSaleLogRow[], staff = false) {
  return {
    id: a.id.toString(),
    orderId: a.orderId.toString(),
    kind: a.kind as 'REFUND_ONLY',
    status: a.status as AfterSaleStatus,
    goods: a.goods,
    shipmentId: a.shipmentId?.toString() ?? null,
    reason: a.reason,
    evidence: a.evidence,
    lines: lines.map((l) => ({ orderItemId: l.orderItemId.toString(), quantity: l.quantity, amount: l.amount })),
    itemsAmount: a.itemsAmount,
    shippingAmount: a.shippingAmount,
    total: a.itemsAmount + a.shippingAmount,
    refundId: a.refundId?.toString() ?? null,
    returnCarrier: a.returnCarrier,
    returnTrackingNo: a.returnTrackingNo,
    reviewNote: a.reviewNote,
    version: a.version,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    ...(log
      ? {
          history: log.map((l) => ({
            at: l.createdAt.toISOString(),
            from: (l.fromStatus as AfterSaleStatus | null) ?? null,
            to: l.toStatus as AfterSaleStatus,
            // The buyer sees that staff acted, not who.
            actor:
              staff || l.actorType !== 'ADMIN' ? `${l.actorType}${staff && l.actorId ? `:${l.actorId}` : ''}` : 'ADMIN',
            reason: l.reason,
          })),
        }
      : {}),
  };
}

export function quoteJson(q: Quote) {
  return {
    lines: q.lines.map((l) => ({ orderItemId: l.orderItemId.toString(), quantity: l.quantity, amount: l.amount })),
    itemsAmount: q.itemsAmount,
    shippingAmount: q.shippingAmount,
    total: q.total,
  };
}
