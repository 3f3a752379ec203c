import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';

const update = z.object({
  orderId: idString.transform((s) => BigInt(s)),
  deliveredAt: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'expected an ISO-8601 time')
    .transform((s) => new Date(s))
    .optional(),
});

/** Data of a delivery_notify message; anything else is VALIDATION_FAILED (parked by the consumer). */
export function parseDeliveryUpdate(data: unknown): { orderId: bigint; deliveredAt?: Date } {
  const r = update.safeParse(data);
  if (!r.success) {
    throw new AppError('VALIDATION_FAILED', `delivery_notify message is invalid: ${r.error.issues[0]?.message}`, {
      field: r.error.issues[0]?.path.join('.'),
    });
  }
  return r.data;
}
