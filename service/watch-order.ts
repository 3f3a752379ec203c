import { type handleServerStreamingCall, Metadata } from '@grpc/grpc-js';
import { AppError } from '../internal/errorx/index.js';
import { getOrderDetail, type OrderChange, OrderWatchHub } from '../internal/order/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import type { WatchOrderRequest, WatchOrderResponse } from '../pkg/gen/qianfan/order/v1/order.js';
import { idField, optionalId, statusEnum } from './convert.js';
import { toServiceError } from './status.js';

/** The WatchOrder streams of one service process (grpc.watch* caps and heartbeat). */
export function watchHub(ctx: ServiceContext): OrderWatchHub {
  const { watchStreamsPerUser, watchStreamsPerProcess, watchHeartbeatMs } = ctx.config.grpc;
  return new OrderWatchHub(ctx, {
    perUser: watchStreamsPerUser,
    perProcess: watchStreamsPerProcess,
    heartbeatMs: watchHeartbeatMs,
  });
}

const changeMessage = (c: OrderChange): WatchOrderResponse => ({
  orderId: c.orderId,
  version: c.version,
  status: statusEnum(c.status),
  previousStatus: statusEnum(c.previousStatus ?? ''),
  reason: c.reason,
  at: c.at,
  heartbeat: false,
});

/**
 * WatchOrder: authorised like GetOrder (with user_id, another user's order is NOT_FOUND), capped per
 * user_id (else per caller) and per process, fed by the process's OrderWatchHub. At shutdown every stream
 * ends UNAVAILABLE, so the client resumes from its last version on another instance.
 */
export function watchOrder(
  ctx: ServiceContext,
  hub: OrderWatchHub,
  caller: (metadata: Metadata, method: string) => string,
): handleServerStreamingCall<WatchOrderRequest, WatchOrderResponse> {
  return (call) => {
    const fail = (err: unknown) => {
      const { error, appError } = toServiceError(err);
      if (appError.kind === 'internal') ctx.logger.error({ err }, 'WatchOrder failed');
      call.emit('error', error);
    };
    void (async () => {
      const who = caller(call.metadata, 'WatchOrder');
      const orderId = idField(call.request.orderId, 'order_id');
      const userId = optionalId(call.request.userId, 'user_id');
      const given = call.request.afterVersion;
      if (given !== undefined && (!Number.isInteger(given) || given < -1)) {
        throw new AppError(
          'VALIDATION_FAILED',
          'after_version is a version received before, or -1 for the whole history',
        );
      }
      const detail = await getOrderDetail(ctx, { orderId, userId }); // NOT_FOUND for another user's order
      const after = given ?? detail.order.version - 1;
      if (call.cancelled) return;
      const user = userId === undefined ? `caller:${who}` : `user:${userId}`;
      hub.admit(user);
      // Headers now: the client knows its watch was accepted before the first change.
      call.sendMetadata(new Metadata());
      const close = hub.open({
        orderId,
        user,
        after,
        send: (c) => call.write(changeMessage(c)),
        beat: () =>
          call.write({
            orderId: String(orderId),
            version: 0,
            status: statusEnum(''),
            previousStatus: statusEnum(''),
            reason: '',
            at: undefined,
            heartbeat: true,
          }),
        end: () => fail(new AppError('DEPENDENCY_UNAVAILABLE', 'the server is shutting down; watch again')),
      });
      call.on('cancelled', close);
      call.on('close', close);
      call.on('finish', close);
    })().catch(fail);
  };
}
