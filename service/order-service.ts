import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { confirmReceipt, markDelivered, shipOrder } from '../internal/delivery/index.js';
import { AppError } from '../internal/errorx/index.js';
import { abandonIdempotent, beginIdempotent, completeIdempotent, requestHash } from '../internal/idempotency/index.js';
import { cancelOrder, createOrder, getOrderDetail, isOrderStatus, listOrders } from '../internal/order/index.js';
import { applyPaymentResult, requestRefund, startPayment } from '../internal/payment/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { inSpan, SpanKind } from '../internal/telemetry/index.js';
import type { OrderServiceServer } from '../pkg/gen/qianfan/order/v1/order.js';
import { idField, optionalId, orderMessage } from './convert.js';
import { toServiceError } from './status.js';

type Json = unknown;

/**
 * qianfan.order.v1.OrderService: each method authenticates the caller's service token, refuses a call
 * whose deadline has already passed, calls one use case, and maps AppErrors to status codes.
 * Mutations are idempotent by request_id.
 */
export function orderService(ctx: ServiceContext): OrderServiceServer {
  const tokens = new Set(ctx.config.grpc.serviceTokens);
  const caller = (call: ServerUnaryCall<unknown, unknown>) => {
    const token = call.metadata.get('x-service-token')[0];
    if (typeof token !== 'string' || !tokens.has(token))
      throw new AppError('UNAUTHENTICATED', 'send a valid x-service-token');
    return token.slice(0, 6);
  };

  function unary<Req, Res>(
    method: string,
    fn: (req: Req) => Promise<Res>,
    idem?: { requestId: (r: Req) => string; encode: (r: Res) => Json; decode: (j: Json) => Res },
  ): handleUnaryCall<Req, Res> {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      const carrier = {
        traceparent: call.metadata.get('traceparent')[0],
        tracestate: call.metadata.get('tracestate')[0],
      };
      void inSpan(
        ctx.tracer,
        `grpc ${method}`,
        { kind: SpanKind.SERVER, carrier, attributes: { 'rpc.method': method } },
        async () => {
          const deadline = call.getDeadline();
          if (deadline instanceof Date && deadline.getTime() <= Date.now()) {
            throw new AppError('DEPENDENCY_UNAVAILABLE', 'the call deadline passed before it was handled');
          }
          const who = caller(call as ServerUnaryCall<unknown, unknown>);
          if (!idem) return fn(call.request);
          const key = idem.requestId(call.request);
          if (!key) throw new AppError('VALIDATION_FAILED', 'request_id is required on mutations (e.g. a UUID)');
          const scope = `grpc:${who}:${method}`;
          const begun = await beginIdempotent(
            ctx,
            scope,
            key,
            requestHash(idem.encode(call.request as unknown as Res)),
          );
          if (begun.kind === 'replay') {
            const stored = JSON.parse(begun.body) as {
              ok?: Json;
              error?: { code: string; message: string; details?: Record<string, unknown> };
            };
            if (stored.error)
              throw new AppError(stored.error.code as never, stored.error.message, stored.error.details);
            return idem.decode(stored.ok);
          }
          try {
            const res = await fn(call.request);
            await completeIdempotent(ctx, scope, key, 200, JSON.stringify({ ok: idem.encode(res) }));
            return res;
          } catch (err) {
            if (err instanceof AppError && err.kind !== 'internal' && err.kind !== 'unavailable') {
              const error = { code: err.code, message: err.message, details: err.details };
              await completeIdempotent(ctx, scope, key, 400, JSON.stringify({ error }));
            } else {
              await abandonIdempotent(ctx, scope, key).catch(() => {});
            }
            throw err;
          }
        },
      ).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const { error, appError } = toServiceError(err);
          if (appError.kind === 'internal') ctx.logger.error({ err, method }, 'gRPC call failed');
          callback(error);
        },
      );
    };
  }

  // Requests are encoded for hashing and replies stored for replay as plain JSON (ids are strings already).
  const json = <T>() => ({ encode: (r: T) => r as Json, decode: (j: Json) => j as T });
  const order = async (id: bigint, user?: bigint) => {
    const d = await getOrderDetail(ctx, { orderId: id, userId: user });
    return { order: orderMessage(d.order, d.items) };
  };

  return {
    createOrder: unary(
      'CreateOrder',
      async (r) => {
        if (!r.address) throw new AppError('VALIDATION_FAILED', 'address is required');
        const { order: o, items } = await createOrder(ctx, {
          userId: idField(r.userId, 'user_id'),
          items: r.items.map((i, n) => ({ skuId: idField(i.skuId, `items[${n}].sku_id`), quantity: i.quantity })),
          address: r.address,
          note: r.note,
          source: 'RPC',
        });
        return { order: orderMessage(o, items) };
      },
      { requestId: (r) => r.requestId, ...json() },
    ),
    getOrder: unary('GetOrder', (r) => order(idField(r.orderId, 'order_id'), optionalId(r.userId, 'user_id'))),
    listOrders: unary('ListOrders', async (r) => {
      if (r.status !== '' && !isOrderStatus(r.status))
        throw new AppError('VALIDATION_FAILED', `unknown status '${r.status}'`);
      const page = await listOrders(ctx, {
        userId: optionalId(r.userId, 'user_id'),
        status: r.status === '' ? undefined : (r.status as never),
        cursor: r.cursor === '' ? undefined : r.cursor,
        limit: r.limit === 0 ? undefined : r.limit,
      });
      return { orders: page.orders.map((o) => orderMessage(o)), nextCursor: page.nextCursor ?? '' };
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
        return { order: orderMessage(res.order) };
      },
      { requestId: (r) => r.requestId, ...json() },
    ),
    startPayment: unary(
      'StartPayment',
      async (r) => {
        const { payment, payUrl } = await startPayment(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          userId: idField(r.userId, 'user_id'),
          provider: r.provider || undefined,
        });
        return {
          paymentId: payment.id.toString(),
          orderId: payment.orderId.toString(),
          amount: String(payment.amount),
          currency: payment.currency,
          status: payment.status,
          payUrl,
        };
      },
      { requestId: (r) => r.requestId, ...json() },
    ),
    applyPaymentResult: unary(
      'ApplyPaymentResult',
      async (r) => {
        if (r.status !== 'SUCCEEDED' && r.status !== 'FAILED')
          throw new AppError('VALIDATION_FAILED', 'status must be SUCCEEDED or FAILED');
        const amount = Number(r.amount);
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
      { requestId: (r) => r.requestId, ...json() },
    ),
    shipOrder: unary(
      'ShipOrder',
      async (r) => {
        const res = await shipOrder(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          carrier: r.carrier,
          trackingNo: r.trackingNo,
          actor: { type: 'ADMIN', id: 'rpc' },
        });
        return { order: orderMessage(res.order) };
      },
      { requestId: (r) => r.requestId, ...json() },
    ),
    markDelivered: unary(
      'MarkDelivered',
      async (r) => ({
        order: orderMessage(
          (await markDelivered(ctx, { orderId: idField(r.orderId, 'order_id'), actor: { type: 'SYSTEM', id: 'rpc' } }))
            .order,
        ),
      }),
      { requestId: (r) => r.requestId, ...json() },
    ),
    confirmReceipt: unary(
      'ConfirmReceipt',
      async (r) => {
        const res = await confirmReceipt(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          userId: optionalId(r.userId, 'user_id'),
          actor: { type: 'USER', id: r.userId },
        });
        return { order: orderMessage(res.order) };
      },
      { requestId: (r) => r.requestId, ...json() },
    ),
    requestRefund: unary(
      'RequestRefund',
      async (r) => {
        const res = await requestRefund(ctx, {
          orderId: idField(r.orderId, 'order_id'),
          userId: optionalId(r.userId, 'user_id'),
          actor: { type: r.userId ? 'USER' : 'ADMIN', id: r.userId || 'rpc' },
          reason: r.reason || 'requested over RPC',
        });
        return { order: orderMessage(res.order) };
      },
      { requestId: (r) => r.requestId, ...json() },
    ),
  };
}
