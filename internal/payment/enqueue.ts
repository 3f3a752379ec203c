import { AppError } from '../errorx/index.js';
import { newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import type { PaymentNotification } from './notification.js';

export const PAYMENT_NOTIFICATION_EVENT = 'payment.notification';

/** How long a webhook's replay guard stays claimed while its enqueue runs (a crash frees it after this). */
const ENQUEUE_GUARD_SECONDS = 30;

/** Publishes a verified notification to payment_notify (FIFO, grouped by order) for the consumer to apply. */
export async function enqueueNotification(ctx: ServiceContext, n: PaymentNotification): Promise<void> {
  await requireMq(ctx).send({
    topic: topics.paymentNotify.name,
    envelope: newEnvelope(PAYMENT_NOTIFICATION_EVENT, n),
    key: n.orderId,
    messageGroup: n.orderId,
  });
}

/** The replay guard needs Redis: when it fails or stalls, the provider is told to send again (503). */
async function guarded<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw new AppError(
      'DEPENDENCY_UNAVAILABLE',
      'the notification could not be received now; send it again',
      undefined,
      {
        cause: err,
      },
    );
  }
}

/**
 * Enqueues a verified webhook's notification once per signed request (`guardKey`, e.g. its signature):
 * the guard is claimed for the time of the enqueue and kept only once the notification is on the
 * broker, so a request whose enqueue failed (answered 5xx) is accepted when the provider resends it.
 * The same signed request again is WEBHOOK_REPLAYED; while the first is being enqueued, IN_FLIGHT.
 */
export async function enqueueOnce(ctx: ServiceContext, guardKey: string, n: PaymentNotification): Promise<void> {
  const guard = `webhook:${guardKey}`;
  const tolerance = ctx.config.payment.webhookToleranceSeconds;
  const claimed = await guarded(ctx.redis.set(guard, 'pending', 'EX', ENQUEUE_GUARD_SECONDS, 'NX'));
  if (claimed !== 'OK') {
    const state = await guarded(ctx.redis.get(guard));
    if (state === 'pending') {
      throw new AppError('IDEMPOTENCY_KEY_IN_FLIGHT', 'this webhook is being received right now; retry shortly');
    }
    throw new AppError('WEBHOOK_REPLAYED', 'this signed webhook was already received');
  }
  try {
    await enqueueNotification(ctx, n);
  } catch (err) {
    await ctx.redis.del(guard).catch(() => {});
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'the notification could not be queued; send it again', undefined, {
      cause: err,
    });
  }
  // Queued: a guard that cannot be kept only lets a resend be queued again, which the consumer applies once.
  await ctx.redis
    .set(guard, 'done', 'EX', tolerance * 2)
    .catch((err: unknown) => ctx.logger.warn({ err }, 'webhook replay guard not kept; a resend is queued again'));
}
