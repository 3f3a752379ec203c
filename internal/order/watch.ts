import { selectSql } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import type { OrderStatus } from './rules.js';

/** The Redis channel a restful process listens on while someone watches the order (with the key prefix). */
export const watchChannel = (ctx: ServiceContext, orderId: bigint | string) =>
  `${ctx.config.redis.keyPrefix}order:watch:${orderId}`;

/**
 * Tells the processes streaming this order (GET /v1/orders/{id}/events) that it has a new version.
 * After the commit, best effort: a lost notice is made up by the streams' periodic re-read.
 */
export async function announceOrderChange(ctx: ServiceContext, orderId: bigint, version: number): Promise<void> {
  await ctx.redis.publish(watchChannel(ctx, orderId), String(version)).catch((err: unknown) => {
    ctx.logger.debug({ err, orderId: String(orderId) }, 'order change not announced; watchers re-read it');
  });
}

/** One version of an order as its watchers see it: a transition, or a change that kept the status. */
export interface OrderChange {
  orderId: string;
  version: number;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  reason: string;
  at: string;
}

/** The order's versions after `afterVersion`, oldest first (at most `limit`), from its status history. */
export async function orderChangesSince(
  ctx: ServiceContext,
  orderId: bigint,
  afterVersion: number,
  limit = 100,
): Promise<OrderChange[]> {
  const rows = await selectSql<{
    from_status: string;
    to_status: string;
    version: number;
    reason: string;
    created_at: Date;
  }>(
    ctx.db,
    'SELECT from_status, to_status, version, reason, created_at FROM order_status_log WHERE order_id = ? AND version > ? ORDER BY version LIMIT ?',
    [orderId, afterVersion, limit],
  );
  return rows.map((r) => ({
    orderId: String(orderId),
    version: Number(r.version),
    status: r.to_status as OrderStatus,
    previousStatus: (r.from_status || null) as OrderStatus | null,
    reason: r.reason,
    at: r.created_at.toISOString(),
  }));
}
