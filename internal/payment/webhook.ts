import { AppError } from '../errorx/index.js';
import { newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { type ApplyOutcome, applyPaymentResult } from './apply-payment-result.js';
import { completeRefund } from './complete-refund.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './signature.js';

/** What a provider tells us, after the signature was checked. Ids are decimal strings. */
export type PaymentNotification =
  | {
      type: 'payment.succeeded' | 'payment.failed';
      paymentId: string;
      orderId: string;
      providerTxnId: string;
      amount: number;
      currency: string;
      failureReason?: string;
      occurredAt: string;
    }
  | { type: 'refund.succeeded'; refundId: string; orderId: string; amount: number; occurredAt: string };

export const PAYMENT_NOTIFICATION_EVENT = 'payment.notification';

const decimalId = /^\d{1,20}$/;

function parseNotification(body: string): PaymentNotification {
  let n: Record<string, unknown>;
  try {
    n = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new AppError('VALIDATION_FAILED', 'webhook body is not JSON');
  }
  const bad = (field: string) => new AppError('VALIDATION_FAILED', `webhook field ${field} is missing or malformed`);
  if (typeof n.orderId !== 'string' || !decimalId.test(n.orderId)) throw bad('orderId');
  if (!Number.isSafeInteger(n.amount) || (n.amount as number) <= 0) throw bad('amount');
  if (typeof n.occurredAt !== 'string' || Number.isNaN(Date.parse(n.occurredAt))) throw bad('occurredAt');
  if (n.type === 'refund.succeeded') {
    if (typeof n.refundId !== 'string' || !decimalId.test(n.refundId)) throw bad('refundId');
    return n as PaymentNotification;
  }
  if (n.type !== 'payment.succeeded' && n.type !== 'payment.failed') throw bad('type');
  if (typeof n.paymentId !== 'string' || !decimalId.test(n.paymentId)) throw bad('paymentId');
  if (typeof n.providerTxnId !== 'string' || n.providerTxnId.length > 64) throw bad('providerTxnId');
  if (typeof n.currency !== 'string' || !/^[A-Z]{3}$/.test(n.currency)) throw bad('currency');
  return n as PaymentNotification;
}

/**
 * Webhook ingress: signature and timestamp are verified before anything is stored, a replay of the
 * same signed request is refused, and the notification is published to payment_notify (FIFO, grouped
 * by order) for the consumer to apply in order.
 */
export async function ingestPaymentWebhook(
  ctx: ServiceContext,
  input: { body: string; timestamp: string | undefined; signature: string | undefined },
): Promise<PaymentNotification> {
  const { webhookSecret, webhookToleranceSeconds } = ctx.config.payment;
  verifyWebhook({ secret: webhookSecret, toleranceSeconds: webhookToleranceSeconds, ...input });
  const notification = parseNotification(input.body);
  const fresh = await ctx.redis.set(`webhook:${input.signature}`, '1', 'EX', webhookToleranceSeconds * 2, 'NX');
  if (fresh !== 'OK') throw new AppError('WEBHOOK_REPLAYED', 'this signed webhook was already received');
  await requireMq(ctx).send({
    topic: topics.paymentNotify.name,
    envelope: newEnvelope(PAYMENT_NOTIFICATION_EVENT, notification),
    key: notification.orderId,
    messageGroup: notification.orderId,
  });
  return notification;
}

/** The consumer side of payment_notify: applies one notification (idempotent). */
export async function applyNotification(
  ctx: ServiceContext,
  n: PaymentNotification,
): Promise<ApplyOutcome | 'REFUNDED'> {
  if (n.type === 'refund.succeeded') {
    return completeRefund(ctx, { refundId: BigInt(n.refundId), amount: n.amount, at: new Date(n.occurredAt) });
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
