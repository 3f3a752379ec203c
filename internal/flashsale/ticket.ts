import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { parseTicketId, saleKeys } from './keys.js';
import { ticketsByIds } from './repository.js';
import type { TicketState } from './rules.js';

export interface TicketView {
  ticketId: string;
  saleId: string;
  status: 'QUEUED' | 'ORDERED' | 'FAILED';
  quantity: number;
  orderId?: string;
  failureReason?: string;
}

/** A buyer's ticket (Redis first, then the DB). Another buyer's ticket is "not found". */
export async function getTicket(ctx: ServiceContext, input: { ticketId: string; userId: bigint }): Promise<TicketView> {
  const notFound = () => new AppError('TICKET_NOT_FOUND', `ticket ${input.ticketId.slice(0, 48)} not found`);
  const id = parseTicketId(input.ticketId);
  if (!id) throw notFound();
  const raw = await ctx.redis.hget(saleKeys(id.saleId).tickets, String(id.seq));
  if (raw) {
    const t = JSON.parse(raw) as TicketState;
    if (t.userId !== String(input.userId)) throw notFound();
    return {
      ticketId: input.ticketId,
      saleId: String(id.saleId),
      status: t.status,
      quantity: t.quantity,
      ...(t.orderId ? { orderId: t.orderId } : {}),
      ...(t.failureReason ? { failureReason: t.failureReason } : {}),
    };
  }
  const [row] = await ticketsByIds(ctx.db, [id.seq]);
  if (!row || row.userId !== input.userId || row.saleId !== id.saleId) throw notFound();
  return {
    ticketId: input.ticketId,
    saleId: String(row.saleId),
    status: row.status === 'FAILED' ? 'FAILED' : 'ORDERED',
    quantity: row.quantity,
    ...(row.orderId ? { orderId: String(row.orderId) } : {}),
    ...(row.failureReason ? { failureReason: row.failureReason } : {}),
  };
}
