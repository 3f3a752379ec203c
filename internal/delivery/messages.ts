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
  /** The parcel, by the carrier's tracking number (and carrier code); absent: every parcel on its way. */
  trackingNo: z
    .string()
    .regex(/^[A-Za-z0-9-]{4,64}$/)
    .optional(),
  carrier: z
    .string()
    .regex(/^[A-Za-z0-9_-]{2,32}$/)
    .optional(),
});

export type DeliveryUpdate = z.output<typeof update>;

/** Data of a delivery_notify message; anything else is VALIDATION_FAILED (parked by the consumer). */
export function parseDeliveryUpdate(data: unknown): DeliveryUpdate {
  const r = update.safeParse(data);
  if (!r.success) {
    throw new AppError('VALIDATION_FAILED', `delivery_notify message is invalid: ${r.error.issues[0]?.message}`, {
      field: r.error.issues[0]?.path.join('.'),
    });
  }
  if (r.data.carrier !== undefined && r.data.trackingNo === undefined) {
    throw new AppError('VALIDATION_FAILED', 'delivery_notify message is invalid: carrier needs trackingNo', {
      field: 'trackingNo',
    });
  }
  return r.data;
}
