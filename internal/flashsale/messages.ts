import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';

export const FLASHSALE_BATCH_EVENT = 'flashsale.tickets';

const ticket = z.object({
  seq: idString,
  userId: idString,
  quantity: z.number().int().min(1).max(100),
  address: z.record(z.string(), z.unknown()),
  queuedAt: z.number().int(),
});

const batch = z.object({ saleId: idString, tickets: z.array(ticket).min(1).max(1000) });

/** One flashsale_ticket message: the tickets of one sale, aggregated by the restful process's batcher. */
export type TicketBatch = z.infer<typeof batch>;
export type QueuedTicket = z.infer<typeof ticket>;

export function parseTicketBatch(data: unknown): TicketBatch {
  const r = batch.safeParse(data);
  if (!r.success) {
    throw new AppError('VALIDATION_FAILED', `flashsale_ticket message is invalid: ${r.error.issues[0]?.message}`, {
      field: r.error.issues[0]?.path.join('.'),
    });
  }
  return r.data;
}
