import { AppError, rejectInvalidText } from '../errorx/index.js';
import { type RateLimiter, rateLimiter } from '../ratelimit/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type ApplyOutcome, applyPaymentResult } from './apply-payment-result.js';
import { completeRefund } from './complete-refund.js';
import { enqueueOnce } from './enqueue.js';
import { failRefund } from './fail-refund.js';
import { type PaymentNotification, parseNotification } from './notification.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './signature.js';

function parseBody(body: string): PaymentNotification {
  let n: unknown;
  try {
    n = JSON.parse(body);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'webhook body is not JSON');
  }
  rejectInvalidText(n, 'webhook body');
  return parseNotification(n);
}

const limiters = new WeakMap<ServiceContext, RateLimiter>();

/**
 * The per-provider budget of verified webhooks (http.webhookRateLimitPerProviderPerMinute, across all
 * replicas). A Redis failure lets the webhook through: losing a payment is worse than a burst.
 */
export async function withinProviderLimit(ctx: ServiceContext, provider: string): Promise<void> {
  let limiter = limiters.get(ctx);
  if (!limiter) {
    limiter = rateLimiter(ctx.redis);
    limiters.set(ctx, limiter);
  }
  const limit = ctx.config.http.webhookRateLimitPerProviderPerMinute;
  const d = await limiter.hit(`webhook:${provider}`, limit, 60_000).catch(() => undefined);
  if (d && !d.allowed) {
    throw new AppError('RATE_LIMITED', `more than ${limit} webhooks a minute from ${provider}; retry later`, {
      retryAfterSeconds: d.retryAfterSeconds,
    });
  }
}

/**
 * Webhook ingress: signature and timestamp are verified before anything is stored or counted, then
 * the provider's own rate limit applies (never the per-IP or per-user ones), a replay of the same
 * signed request is refused, and the notification is published to payment_notify (FIFO, grouped by
 * order) for the consumer to apply in order.
 */
export async function ingestPaymentWebhook(
  ctx: ServiceContext,
  input: { provider: string; body: string; timestamp: string | undefined; signature: string | undefined },
): Promise<PaymentNotification> {
  const { webhookSecret, webhookToleranceSeconds } = ctx.config.payment;
  verifyWebhook({
    secret: webhookSecret,
    toleranceSeconds: webhookToleranceSeconds,
    body: input.body,
    timestamp: input.timestamp,
    signature: input.signature,
  });
  await withinProviderLimit(ctx, input.provider);
  const notification = parseBody(input.body);
  await enqueueOnce(ctx, input.signature ?? '', notification);
  return notification;
}

/**
 * The consumer side of payment_notify: validates the message's data, then applies it (idempotent).
 * Invalid data is VALIDATION_FAILED, which the consumer parks at once.
 */
export async function applyNotification(
  ctx: ServiceContext,
  data: unknown,
): Promise<ApplyOutcome | 'REFUNDED' | 'REFUND_FAILED'> {
  const n = parseNotification(data);
  if (n.type === 'refund.succeeded') {
    return completeRefund(ctx, { refundId: BigInt(n.refundId), amount: n.amount, at: new Date(n.occurredAt) });
  }
  if (n.type === 'refund.failed') {
    return failRefund(ctx, {
      refundId: BigInt(n.refundId),
      amount: n.amount,
      reason: n.failureReason ?? 'refused by the provider',
    });
  }
  return applyPaymentResult(ctx, {
    paymentId: BigInt(n.paymentId),
    status: n.type === 'payment.succeeded' ? 'SUCCEEDED' : 'FAILED',
    amount: n.amount,
    currency: n.currency,
    providerTxnId: n.providerTxnId,
    failureReason: n.failureReason,
    occurredAt: new Date(n.occurredAt),
  });
}

/** A correctly signed webhook request, as the sandbox provider would send it. */
export function sandboxWebhook(secret: string, n: PaymentNotification, now = Date.now()) {
  const body = JSON.stringify(n);
  const ts = Math.floor(now / 1000);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      [TIMESTAMP_HEADER]: String(ts),
      [SIGNATURE_HEADER]: signWebhook(secret, ts, body),
    },
  };
}
