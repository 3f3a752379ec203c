import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';

const decimalId = idString;
/** Money in minor units: a positive safe integer (never a string, float or exponent). */
const amount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 time');

const paymentResult = z.object({
  type: z.enum(['payment.succeeded', 'payment.failed']),
  paymentId: decimalId,
  orderId: decimalId,
  providerTxnId: z.string().max(64),
  amount,
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO-4217 code'),
  failureReason: z.string().max(200).optional(),
  occurredAt: isoTime,
});
const refundSucceeded = z.object({
  type: z.literal('refund.succeeded'),
  refundId: decimalId,
  orderId: decimalId,
  amount,
  occurredAt: isoTime,
});
const refundFailed = z.object({
  type: z.literal('refund.failed'),
  refundId: decimalId,
  orderId: decimalId,
  amount,
  failureReason: z.string().max(200).optional(),
  occurredAt: isoTime,
});

const notification = z.discriminatedUnion('type', [paymentResult, refundSucceeded, refundFailed]);

/** What a provider tells us, after the signature was checked. Ids are decimal strings. */
export type PaymentNotification = z.infer<typeof notification>;

/**
 * Validates a notification, from the webhook body or from a payment_notify message: anything that does
 * not fit is VALIDATION_FAILED naming the field (a permanent failure for a consumer).
 */
export function parseNotification(data: unknown): PaymentNotification {
  const r = notification.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') || 'type';
  throw new AppError(
    'VALIDATION_FAILED',
    `payment notification field ${field} is missing or malformed: ${issue?.message}`,
    {
      field,
    },
  );
}

/** The notification's JSON Schema (OpenAPI 3.0 dialect), for the API document's webhook body. */
export function notificationJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(notification, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
