import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';

const id = idString.transform((s) => BigInt(s));

// `{orderIds}` names every order due at the message's time; `{orderId}` is the one-order form older
// releases sent (still accepted).
const deadline = z.union([
  z.object({ orderIds: z.array(id).min(1).max(1000) }),
  z.object({ orderId: id, version: z.number().int().min(0).optional() }),
]);

/** Data of an order_timeout message; anything else is VALIDATION_FAILED (parked by the consumer). */
export function parseDeadlineMessage(data: unknown): { orderIds: bigint[] } {
  const r = deadline.safeParse(data);
  if (!r.success) {
    throw new AppError('VALIDATION_FAILED', `order_timeout message is invalid: ${r.error.issues[0]?.message}`, {
      field: r.error.issues[0]?.path.join('.'),
    });
  }
  return { orderIds: 'orderIds' in r.data ? r.data.orderIds : [r.data.orderId] };
}
