import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm';
import { backfillRuns, orderItems, orders } from '../model/index.js';
import { getOrderDetail, invalidateOrderDetail, invalidateOrderLists } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface Backfill {
  name: string;
  does: string;
  /** Handles the orders with ids in one batch; returns how many findings (drift, repairs) it made. */
  batch(ctx: ServiceContext, ids: bigint[], dryRun: boolean): Promise<{ findings: number; notes: string[] }>;
}

/** The backfills operators can run. Each is batched by order id, throttled and checkpointed. */
export const backfills: Backfill[] = [
  {
    name: 'order-totals',
    does: 'recompute each order total from its items and report the orders whose stored total drifted (writes only the checkpoint)',
    async batch(ctx, ids) {
      const sums = await ctx.db
        .select({ orderId: orderItems.orderId, sum: sql<string>`SUM(${orderItems.lineTotal})` })
        .from(orderItems)
        .where(inArray(orderItems.orderId, ids))
        .groupBy(orderItems.orderId);
      const byOrder = new Map(sums.map((s) => [s.orderId, Number(s.sum)]));
      const rows = await ctx.db
        .select({ id: orders.id, itemsAmount: orders.itemsAmount })
        .from(orders)
        .where(inArray(orders.id, ids));
      const notes: string[] = [];
      for (const r of rows) {
        const sum = byOrder.get(r.id) ?? 0;
        if (sum !== r.itemsAmount) notes.push(`order ${r.id}: items_amount ${r.itemsAmount}, items sum ${sum}`);
      }
      return { findings: notes.length, notes };
    },
  },
  {
    name: 'order-cache',
    does: "rebuild the Redis order-detail cache of every order from MySQL and drop its buyer's cached list pages (writes Redis only)",
    async batch(ctx, ids, dryRun) {
      if (dryRun) return { findings: 0, notes: [] };
      const users: bigint[] = [];
      for (const id of ids) {
        await invalidateOrderDetail(ctx, id);
        users.push((await getOrderDetail(ctx, { orderId: id })).order.userId);
      }
      await invalidateOrderLists(ctx, users);
      return { findings: ids.length, notes: [] };
    },
  },
];

export interface BackfillOptions {
  batchSize: number;
  /** Start after this id (ignores the checkpoint). */
  fromId?: bigint;
  dryRun: boolean;
  /** Pause between batches, so a backfill never starves live traffic. */
  sleepMs: number;
  onProgress?: (p: { processed: number; lastId: bigint; findings: number; total: number }) => void;
  onNotes?: (notes: string[]) => void;
}

export interface BackfillResult {
  name: string;
  processed: number;
  findings: number;
  lastId: string;
  resumedFrom: string | null;
  dryRun: boolean;
}

/**
 * Runs a backfill over all orders by id range, `batchSize` at a time. After each batch the checkpoint
 * (`backfill_runs`) records the last id, so a killed run resumes where it stopped; a finished run starts
 * again from the beginning. `--dry-run` writes no checkpoint.
 */
export async function runBackfill(ctx: ServiceContext, b: Backfill, opts: BackfillOptions): Promise<BackfillResult> {
  const [saved] = await ctx.db.select().from(backfillRuns).where(eq(backfillRuns.name, b.name));
  const resume = saved?.status === 'RUNNING' && opts.fromId === undefined ? saved : undefined;
  let lastId = opts.fromId ?? resume?.lastId ?? 0n;
  let processed = resume?.processed ?? 0;
  let findings = resume?.findings ?? 0;
  const [{ total } = { total: '0' }] = await ctx.db
    .select({ total: sql<string>`COUNT(*)` })
    .from(orders)
    .where(gt(orders.id, 0n));
  if (!opts.dryRun) {
    await ctx.db
      .insert(backfillRuns)
      .values({ name: b.name, status: 'RUNNING', lastId, processed, findings })
      .onDuplicateKeyUpdate({ set: { status: 'RUNNING', lastId, processed, findings, finishedAt: null } });
  }
  for (;;) {
    const ids = (
      await ctx.db
        .select({ id: orders.id })
        .from(orders)
        .where(and(gt(orders.id, lastId)))
        .orderBy(asc(orders.id))
        .limit(opts.batchSize)
    ).map((r) => r.id);
    if (ids.length === 0) break;
    const r = await b.batch(ctx, ids, opts.dryRun);
    lastId = ids[ids.length - 1]!;
    processed += ids.length;
    findings += r.findings;
    if (r.notes.length) opts.onNotes?.(r.notes);
    if (!opts.dryRun) {
      await ctx.db.update(backfillRuns).set({ lastId, processed, findings }).where(eq(backfillRuns.name, b.name));
    }
    opts.onProgress?.({ processed, lastId, findings, total: Number(total) });
    if (opts.sleepMs > 0) await new Promise((res) => setTimeout(res, opts.sleepMs));
  }
  if (!opts.dryRun) {
    await ctx.db
      .update(backfillRuns)
      .set({ status: 'DONE', finishedAt: new Date() })
      .where(eq(backfillRuns.name, b.name));
  }
  return {
    name: b.name,
    processed,
    findings,
    lastId: String(lastId),
    resumedFrom: resume ? String(resume.lastId) : null,
    dryRun: opts.dryRun,
  };
}

export async function backfillStatus(ctx: ServiceContext) {
  return ctx.db.select().from(backfillRuns).orderBy(asc(backfillRuns.name));
}
