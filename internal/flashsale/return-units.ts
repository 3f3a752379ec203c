import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';
import type { ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import { closeTicket, getSale, returnUnits, ticketOfOrder } from './repository.js';
import { RETURN_ORDER } from './scripts.js';
import { stateOf } from './settle.js';

const cancelled = z.object({ orderId: idString, source: z.string().optional(), status: z.literal('CANCELLED') });

/**
 * The consumer of order.cancelled (order_event): an unpaid flash-sale order that was cancelled (timeout,
 * user, admin) gives its units back to the sale, in the DB (ticket RETURNED, sale sold count) and in
 * Redis (remaining stock, the buyer's count), each exactly once. Other orders are ignored.
 */
export async function returnCancelledUnits(ctx: ServiceContext, data: unknown): Promise<'RETURNED' | 'IGNORED'> {
  const r = cancelled.safeParse(data);
  if (!r.success)
    throw new AppError('VALIDATION_FAILED', `order.cancelled event is invalid: ${r.error.issues[0]?.message}`);
  if (r.data.source !== 'FLASHSALE') return 'IGNORED';
  const orderId = BigInt(r.data.orderId);
  const ticket = await ticketOfOrder(ctx.db, orderId);
  if (!ticket) return 'IGNORED'; // a flash-sale order without a ticket: nothing to give back
  const sale = await getSale(ctx.db, ticket.saleId);
  if (!sale) return 'IGNORED';
  let toSale = ticket.status === 'RETURNED';
  if (ticket.status === 'ORDERED') {
    toSale = await ctx.db.transaction(async (tx) => {
      const back = await returnUnits(tx, sale, ticket.quantity);
      if (!(await closeTicket(tx, ticket.id, back ? 'RETURNED' : 'RELEASED'))) {
        throw new AppError('CONCURRENT_MODIFICATION', `ticket ${ticket.id} changed meanwhile`);
      }
      return back;
    });
  }
  if (toSale) {
    const k = saleKeys(sale.id);
    const state = { ...stateOf(ticket, Date.now()), status: 'ORDERED' as const };
    await RETURN_ORDER.run(
      ctx.redis,
      [k.stock, k.users, k.returned, k.tickets],
      [String(orderId), ticket.quantity, String(ticket.userId), String(ticket.id), JSON.stringify(state)],
    );
  }
  return 'RETURNED';
}
