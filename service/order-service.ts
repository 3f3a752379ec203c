import { type handleUnaryCall, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { confirmReceipt, markDelivered, reportParcelLost, shipOrder } from '../internal/delivery/index.js';
import { AppError } from '../internal/errorx/index.js';
import { type IdempotencySeal, requestHash, runIdempotent } from '../internal/idempotency/index.js';
import {
  cancelOrder,
  createOrder,
  getOrderDetail,
  itemsByOrder,
  listOrders,
  type OrderItemRow,
  type OrderRow,
  type OrderWatchHub,
} from '../internal/order/index.js';
import { applyPaymentResult, requestRefund, startPayment } from '../internal/payment/index.js';
import { requestDeadline, type ServiceContext, withRequestDeadline } from '../internal/svc/index.js';
import { inSpan, SpanKind, serviceMetrics } from '../internal/telemetry/index.js';
import { type OrderServiceServer, OrderServiceService } from '../pkg/gen/qianfan/order/v1/order.js';
import { afterSaleCalls, afterSaleMessage } from './after-sales.js';
import { serviceCallers } from './callers.js';
import { idField, optionalId, orderMessage, statusFilter } from './convert.js';
import { toServiceError } from './status.js';
import { watchOrder } from './watch-order.js';

/**
 * qianfan.order.v1.OrderService: each method refuses a call whose deadline has already passed, names the
 * caller by its service token and checks that it may call the method (service/callers.ts), calls one use
 * case, and maps AppErrors to status codes. Mutations are idempotent by request_id per caller
 * (internal/idempotency).
 */
export function orderService(ctx: ServiceContext, hub: OrderWatchHub): OrderServiceServer {
  const caller = serviceCallers(
    ctx.config.grpc,
    Object.values(OrderServiceService).map((d) => d.path.slice(d.path.lastIndexOf('/') + 1)),
  );
  const red = serviceMetrics(ctx.metrics).grpc;
  const { requestDeadlineMs } = ctx.config.grpc;
  const afterSales = afterSaleCalls(ctx);

  function unary<Req, Res>(
    method: string,
    fn: (req: Req, seal?: IdempotencySeal<Res>) => Promise<Res>,
    /** Mutations: idempotent by the request's request_id. */
    idempotent = false,
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const started = performance.now();
      const observe = (code: status) =>
        red.observe({ method, code: status[code] }, (performance.now() - started) / 1000);
      const carrier = {
        traceparent: call.metadata.get('traceparent')[0],
        tracestate: call.metadata.get('tracestate')[0],
        'uber-trace-id': call.metadata.get('uber-trace-id')[0],
      };
      const deadline = callerDeadline(call);
      const handle = async (): Promise<Res> => {
        const who = caller(call.metadata, method);
        if (!idempotent) return fn(call.request);
        const key = (call.request as { requestId?: string }).requestId ?? '';
        if (!key) throw new AppError('VALIDATION_FAILED', 'request_id is required on mutations (e.g. a UUID)');
        const claim = { scope: `grpc:${who}:${method}`, key, hash: requestHash(call.request) };
        return (await runIdempotent<Res>(ctx, claim, (seal) => fn(call.request, seal))).value;
      };
      void inSpan(
        ctx.tracer,
        `grpc ${method}`,
        { kind: SpanKind.SERVER, carrier, attributes: { 'rpc.method': method } },
        async (): Promise<Res> => {
          if (deadline !== undefined && deadline <= Date.now()) {
            throw new AppError('DEPENDENCY_UNAVAILABLE', 'the call deadline passed before it was handled');
          }
          if (requestDeadlineMs === 0 && deadline === undefined) return handle();
          // The call's MySQL waits end at its deadline (internal/svc/request-deadline.ts), while it runs.
          const d = requestDeadline(requestDeadlineMs || Number.POSITIVE_INFINITY, deadline);
          try {
            return await withRequestDeadline(d, handle);
          } finally {
            d.open = false;
          }
        },
      ).then(
        (res) => {
          observe(status.OK);
          callback(null, res);
        },
        (err: unknown) => {
          const { error, appError } = toServiceError(err);
          if (appError.kind === 'internal') ctx.logger.error({ err, method }, 'gRPC call failed');
          observe(error.code ?? status.UNKNOWN);
          callback(error);
        },
      );
    };
  }

  const order = async (id: bigint, user?: bigint) => {
    const d = await getOrderDetail(ctx, { orderId: id, userId: user });
    return { order: orderMessage(d.order, d.items, d.extras) };
  };

  return {
    createOrder: unary(
      'CreateOrder',
      async (r, seal) => {
        if (!r.address) throw new AppError('VALIDATION_FAILED', 'address is required');
        const answer = (c: { order: OrderRow; items: OrderItemRow[] }) => ({ order: orderMessage(c.order, c.items) });
        const created = await createOrder(ctx, {
          userId: idField(r.userId, 'user_id'),
          items: r.items.map((i, n) => ({ skuId: idField(i.skuId, `items[${n}].sku_id`), quantity: i.quantity })),
          address: r.address,
          note: r.note,
          source: 'RPC',
          seal: seal && ((tx, c) => seal(tx, answer(c))),
        });
        return answer(created);
      },
      true,
    ),
    getOrder: unary('GetOrder', (r) => order(idField(r.orderId, 'order_id'), optionalId(r.userId, 'user_id'))),
    listOrders: unary('ListOrders', async (r) => {
      const page = await listOrders(ctx, {
        userId: optionalId(r.userId, 'user_id'),
        status: statusFilter(r.status, r.legacyStatus),
        cursor: r.cursor === '' ? undefined : r.cursor,
        limit: r.limit === 0 ? undefined : r.limit,
      });
      const items = itemsByOrder(page.items);
      return {
        orders: page.orders.map((o) => orderMessage(o, items.get(o.id) ?? [])),
        nextCursor: page.nextCursor ?? '',
      };
    }),
    cancelOrder: unary(
      'CancelOrder',
      async (r) => {
        if (r.reason !== 'USER' && r.reason !== 'ADMIN')
          throw new AppError('VALIDATION_FAILED', 'reason must be USER or ADMIN');
        const res = await cancelOrder(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          reason: r.reason,
          userId: optionalId(r.userId, 'user_id'),
          actor: { type: r.reason === 'ADMIN' ? 'ADMIN' : 'USER', id: r.userId },
        });
        return { order: orderMessage(res.order, res.items) };
      },
      true,
    ),
    startPayment: unary(
      'StartPayment',
      async (r) => {
        const { payment, payUrl, client } = await startPayment(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          userId: idField(r.userId, 'user_id'),
          provider: r.provider || undefined,
          method: r.method || undefined,
          openId: r.openId || undefined,
          clientIp: r.clientIp || undefined,
        });
        return {
          paymentId: payment.id.toString(),
          orderId: payment.orderId.toString(),
          amount: String(payment.amount),
          currency: payment.currency,
          status: payment.status,
          payUrl,
          client,
        };
      },
      true,
    ),
    applyPaymentResult: unary(
      'ApplyPaymentResult',
      async (r) => {
        if (r.status !== 'SUCCEEDED' && r.status !== 'FAILED')
          throw new AppError('VALIDATION_FAILED', 'status must be SUCCEEDED or FAILED');
        // Decimal digits only: Number() would also take '0x10', '1e3' or ' 7 '.
        const amount = /^[1-9]\d{0,15}$/.test(r.amount) ? Number(r.amount) : Number.NaN;
        if (!Number.isSafeInteger(amount) || amount <= 0)
          throw new AppError('VALIDATION_FAILED', 'amount must be a positive integer (fen)');
        const outcome = await applyPaymentResult(ctx, {
          paymentId: idField(r.paymentId, 'payment_id'),
          status: r.status,
          amount,
          currency: r.currency,
          providerTxnId: r.providerTxnId,
          failureReason: r.failureReason || undefined,
        });
        return { outcome };
      },
      true,
    ),
    shipOrder: unary(
      'ShipOrder',
      async (r) => {
        const res = await shipOrder(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          carrier: r.carrier,
          trackingNo: r.trackingNo,
          lines:
            r.lines.length === 0
              ? undefined
              : r.lines.map((l) => ({
                  orderItemId: idField(l.orderItemId, 'lines.order_item_id'),
                  quantity: l.quantity,
                })),
          actor: { type: 'ADMIN', id: 'rpc' },
        });
        return { order: orderMessage(res.order, res.items) };
      },
      true,
    ),
    markDelivered: unary(
      'MarkDelivered',
      async (r) => {
        const res = await markDelivered(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          shipmentId: optionalId(r.shipmentId, 'shipment_id'),
          actor: { type: 'SYSTEM', id: 'rpc' },
        });
        return { order: orderMessage(res.order, res.items) };
      },
      true,
    ),
    reportParcelLost: unary(
      'ReportParcelLost',
      async (r) => {
        const res = await reportParcelLost(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          shipmentId: idField(r.shipmentId, 'shipment_id'),
          reason: r.reason,
          actor: { type: 'ADMIN', id: 'rpc' },
        });
        return {
          order: orderMessage(res.order.order, res.order.items),
          afterSale: afterSaleMessage(res.afterSale.afterSale, res.afterSale.lines),
        };
      },
      true,
    ),
    confirmReceipt: unary(
      'ConfirmReceipt',
      async (r) => {
        const res = await confirmReceipt(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          userId: optionalId(r.userId, 'user_id'),
          actor: { type: 'USER', id: r.userId },
        });
        return { order: orderMessage(res.order, res.items) };
      },
      true,
    ),
    watchOrder: watchOrder(ctx, hub, caller),
    requestAfterSale: unary('RequestAfterSale', afterSales.request, true),
    getAfterSale: unary('GetAfterSale', afterSales.get),
    listOrderAfterSales: unary('ListOrderAfterSales', afterSales.listOfOrder),
    withdrawAfterSale: unary('WithdrawAfterSale', afterSales.withdraw, true),
    reviewAfterSale: unary('ReviewAfterSale', afterSales.review, true),
    receiveAfterSaleReturn: unary('ReceiveAfterSaleReturn', afterSales.receive, true),
    requestRefund: unary(
      'RequestRefund',
      async (r) => {
        const res = await requestRefund(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          userId: optionalId(r.userId, 'user_id'),
          actor: { type: r.userId ? 'USER' : 'ADMIN', id: r.userId || 'rpc' },
          reason: r.reason || 'requested over RPC',
        });
        return { order: orderMessage(res.order, res.items) };
      },
      true,
    ),
  };
}

/** The caller's deadline in epoch ms, if it set one. */
function callerDeadline(call: ServerUnaryCall<unknown, unknown>): number | undefined {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(at) ? at : undefined;
}
