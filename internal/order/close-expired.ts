import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { cancelOrder } from './cancel-order.js';
import { countExpiredPending, expiredPendingOrders } from './repository.js';

/**
 * Backstop for the order_timeout delay messages: cancels PENDING_PAYMENT orders whose deadline has
 * passed, oldest first, in pages of `pageSize` by a (deadline, id) cursor, at most `limit` per run. Each
 * order on its own: one that fails is logged and counted and the run goes on past it. A run that stops
 * at `limit` leaves its cursor in Redis and the next run goes on from there (back to the oldest once it
 * reaches the end), so orders that keep failing are tried once per pass and never starve the rest.
 * An order paid meanwhile is a no-op.
 */
export async function closeExpiredOrders(
  ctx: ServiceContext,
  input: { now?: Date; limit?: number; pageSize?: number } = {},
) {
  const now = input.now ?? new Date();
  const limit = input.limit ?? 2000;
  const pageSize = Math.min(input.pageSize ?? 500, limit);
  let closed = 0;
  let due = 0;
  let failed = 0;
  let after = await savedCursor(ctx);
  let reachedEnd = false;
  while (due < limit) {
    const asked = Math.min(pageSize, limit - due);
    const page = await expiredPendingOrders(ctx.db, now, asked, after);
    due += page.length;
    const r = await sweepEach(
      ctx,
      'close-expired-orders',
      page,
      (o) => String(o.id),
      async (o) => {
        const res = await cancelOrder(ctx, {
          orderId: o.id,
          reason: 'TIMEOUT',
          actor: { type: 'SYSTEM', id: 'close-expired' },
          now,
        }).catch((err: unknown) => {
          // Paid (or cancelled) between the query and the cancel: nothing to do.
          if ((err as { code?: string }).code === 'ORDER_STATE_CONFLICT') return { changed: false };
          throw err;
        });
        if (res.changed) closed++;
      },
    );
    failed += r.failed;
    if (page.length < asked) {
      reachedEnd = true;
      break;
    }
    after = page[page.length - 1];
  }
  await saveCursor(ctx, reachedEnd ? undefined : after);
  // What is still overdue after this run (alert: orders past their deadline still pending).
  const overdue = await countExpiredPending(ctx.db, now);
  serviceMetrics(ctx.metrics).overduePending.set(overdue);
  return { due, closed, failed, stillOverdue: overdue };
}

const CURSOR_KEY = 'sweep:close-expired:cursor';

/** Where the last run that stopped at its limit left off; undefined to start at the oldest. */
async function savedCursor(ctx: ServiceContext): Promise<{ payDeadline: Date; id: bigint } | undefined> {
  const raw = await ctx.redis.get(CURSOR_KEY).catch(() => null);
  const m = raw ? /^(\d+):(\d+)$/.exec(raw) : null;
  return m ? { payDeadline: new Date(Number(m[1])), id: BigInt(m[2]!) } : undefined;
}

async function saveCursor(ctx: ServiceContext, at: { payDeadline: Date; id: bigint } | undefined) {
  const write = at
    ? ctx.redis.set(CURSOR_KEY, `${at.payDeadline.getTime()}:${at.id}`, 'EX', 3600)
    : ctx.redis.del(CURSOR_KEY);
  await write.catch((err: unknown) =>
    ctx.logger.warn({ err }, 'close-expired cursor not saved; the next run starts at the oldest'),
  );
}
