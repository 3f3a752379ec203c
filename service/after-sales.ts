import {
  type AfterSaleLineRow,
  type AfterSaleRow,
  afterSalesOfOrderView,
  readAfterSale,
  rejectAfterSale,
  withdrawAfterSale,
} from '../internal/aftersale/index.js';
import { AppError } from '../internal/errorx/index.js';
import { approveAfterSaleRequest, openAfterSaleRequest, receiveAfterSaleReturn } from '../internal/payment/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import {
  type AfterSale,
  type ReceiveAfterSaleReturnRequest,
  type RequestAfterSaleRequest,
  type ReviewAfterSaleRequest,
  ReviewDecision,
  type WithdrawAfterSaleRequest,
} from '../pkg/gen/qianfan/order/v1/order.js';
import { idField, optionalId } from './convert.js';

/** The one gRPC representation of an after-sale (message AfterSale). */
export function afterSaleMessage(a: AfterSaleRow, lines: AfterSaleLineRow[]): AfterSale {
  return {
    id: a.id.toString(),
    orderId: a.orderId.toString(),
    userId: a.userId.toString(),
    kind: a.kind,
    status: a.status,
    reason: a.reason,
    evidence: a.evidence,
    lines: lines.map((l) => ({
      orderItemId: l.orderItemId.toString(),
      quantity: l.quantity,
      amount: String(l.amount),
    })),
    itemsAmount: String(a.itemsAmount),
    shippingAmount: String(a.shippingAmount),
    total: String(a.itemsAmount + a.shippingAmount),
    refundId: a.refundId?.toString() ?? '',
    returnCarrier: a.returnCarrier ?? '',
    returnTrackingNo: a.returnTrackingNo ?? '',
    reviewNote: a.reviewNote,
    version: a.version,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
    goods: a.goods,
    shipmentId: a.shipmentId?.toString() ?? '',
  };
}

const staff = { type: 'ADMIN' as const, id: 'rpc' };

/** The after-sale methods of OrderService: each parses its request and calls one use case. */
export const afterSaleCalls = (ctx: ServiceContext) => ({
  async request(r: RequestAfterSaleRequest) {
    const userId = idField(r.userId, 'user_id');
    const res = await openAfterSaleRequest(ctx, {
      orderId: idField(r.orderId, 'order_id'),
      userId,
      kind: r.kind,
      reason: r.reason,
      evidence: r.evidence,
      lines: r.lines.map((l, i) => ({
        orderItemId: idField(l.orderItemId, `lines[${i}].order_item_id`),
        quantity: l.quantity,
      })),
    });
    return { afterSale: afterSaleMessage(res.afterSale, res.lines) };
  },
  async get(r: { afterSaleId: string; userId: string }) {
    const v = await readAfterSale(ctx, {
      afterSaleId: idField(r.afterSaleId, 'after_sale_id'),
      userId: optionalId(r.userId, 'user_id'),
    });
    return { afterSale: afterSaleMessage(v.afterSale, v.lines) };
  },
  async listOfOrder(r: { orderId: string; userId: string }) {
    const all = await afterSalesOfOrderView(ctx, {
      orderId: idField(r.orderId, 'order_id'),
      userId: optionalId(r.userId, 'user_id'),
    });
    return { afterSales: all.map((v) => afterSaleMessage(v.afterSale, v.lines)) };
  },
  async withdraw(r: WithdrawAfterSaleRequest) {
    const userId = idField(r.userId, 'user_id');
    const res = await withdrawAfterSale(ctx, {
      afterSaleId: idField(r.afterSaleId, 'after_sale_id'),
      userId,
      actor: { type: 'USER', id: userId.toString() },
      reason: r.reason,
    });
    return { afterSale: afterSaleMessage(res.afterSale, res.lines) };
  },
  async review(r: ReviewAfterSaleRequest) {
    const afterSaleId = idField(r.afterSaleId, 'after_sale_id');
    let res: Awaited<ReturnType<typeof rejectAfterSale>>;
    if (r.decision === ReviewDecision.APPROVE)
      res = await approveAfterSaleRequest(ctx, { afterSaleId, actor: staff, note: r.note });
    else if (r.decision === ReviewDecision.REJECT)
      res = await rejectAfterSale(ctx, { afterSaleId, actor: staff, note: r.note });
    else throw new AppError('VALIDATION_FAILED', 'decision must be REVIEW_DECISION_APPROVE or REVIEW_DECISION_REJECT');
    return { afterSale: afterSaleMessage(res.afterSale, res.lines) };
  },
  async receive(r: ReceiveAfterSaleReturnRequest) {
    const res = await receiveAfterSaleReturn(ctx, {
      afterSaleId: idField(r.afterSaleId, 'after_sale_id'),
      actor: staff,
    });
    return { afterSale: afterSaleMessage(res.afterSale, res.lines) };
  },
});
