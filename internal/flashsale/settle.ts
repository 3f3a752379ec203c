import type { ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import type { TicketRow } from './repository.js';
import type { TicketState } from './rules.js';
import { SETTLE } from './scripts.js';

/** The ticket state Redis should show for a ticket the DB has recorded. */
export function stateOf(row: TicketRow, queuedAt: number): TicketState {
  return {
    userId: String(row.userId),
    quantity: row.quantity,
    status: row.status === 'FAILED' ? 'FAILED' : 'ORDERED',
    ...(row.orderId ? { orderId: String(row.orderId) } : {}),
    ...(row.failureReason ? { failureReason: row.failureReason } : {}),
    queuedAt,
  };
}

/**
 * Tells Redis what the DB recorded: ticket states, no longer queued, and a failed ticket's units back
 * to the sale (once). Safe to repeat.
 */
export async function settleInRedis(
  ctx: ServiceContext,
  saleId: bigint | string,
  rows: TicketRow[],
  queuedAt = Date.now(),
) {
  if (rows.length === 0) return;
  const k = saleKeys(saleId);
  const args = rows.flatMap((r) => [
    String(r.id),
    JSON.stringify(stateOf(r, queuedAt)),
    r.status === 'FAILED' ? '1' : '0',
    r.quantity,
    String(r.userId),
  ]);
  await SETTLE.run(ctx.redis, [k.tickets, k.queued, k.stock, k.users, k.returned, k.sent], args);
}
