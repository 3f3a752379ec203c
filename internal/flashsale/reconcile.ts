import type { ServiceContext } from '../svc/index.js';
import { flashSaleStats } from './get-sale.js';
import { saleKeys } from './keys.js';
import { loadSale } from './load-sale.js';
import { recentSales } from './repository.js';
import { EXPIRE_SETTLED, REPAIR_STOCK } from './scripts.js';

export interface SaleReconciliation {
  saleId: string;
  /** What Redis should hold: stock - sold (DB) - units of tickets still queued. */
  expectedRemaining: number;
  redisRemaining: number | null;
  queuedTickets: number;
  action: 'ok' | 'loaded' | 'repaired' | 'reported';
  note?: string;
}

/**
 * Compares a sale's Redis counters with the DB. Safe repairs: a sale missing from Redis is loaded; once
 * the sale has ended and no ticket is in flight, Redis remaining is set to stock - sold, atomically and
 * only if it is still the value that was compared (REPAIR_STOCK). On a live sale, or with tickets in
 * flight, a difference is reported only: a purchase between the read and a plain SET would be undone.
 * A sale that agrees, has ended and has nothing in flight gets a TTL on its keys (SETTLED_TTL_SECONDS).
 */
export async function reconcileFlashSale(
  ctx: ServiceContext,
  saleId: bigint,
  opts: { dryRun?: boolean } = {},
): Promise<SaleReconciliation> {
  const s = await flashSaleStats(ctx, saleId);
  const k = saleKeys(saleId);
  const queuedUnits = await queuedUnitsOf(ctx, saleId);
  const expected = s.sale.stock - s.sale.sold - queuedUnits;
  const base = {
    saleId: String(saleId),
    expectedRemaining: expected,
    redisRemaining: s.redis.remaining,
    queuedTickets: s.redis.queuedTickets,
  };
  if (!s.redis.loaded || s.redis.remaining === null) {
    if (!opts.dryRun) await loadSale(ctx, s.sale);
    return { ...base, action: 'loaded' };
  }
  if (s.redis.remaining === expected) {
    if (!opts.dryRun) await expireIfSettled(ctx, saleId);
    return { ...base, action: 'ok' };
  }
  if (s.redis.queuedTickets > 0) {
    return { ...base, action: 'reported', note: 'tickets in flight; run again when the queue is empty' };
  }
  if (opts.dryRun) return { ...base, action: 'reported' };
  const done = (await REPAIR_STOCK.run(
    ctx.redis,
    [k.meta, k.stock, k.queued],
    [s.redis.remaining, expected],
  )) as number;
  if (done !== 1) {
    const note = REPAIR_REFUSED[done] ?? `repair refused (${done})`;
    return { ...base, action: 'reported', note };
  }
  ctx.logger.warn({ ...base }, 'flash sale Redis stock differed from the DB; repaired');
  return { ...base, action: 'repaired' };
}

/** A settled sale's keys live this long after the reconcile job last saw it (it looks for a day after the end). */
export const SETTLED_TTL_SECONDS = 7 * 86_400;

async function expireIfSettled(ctx: ServiceContext, saleId: bigint) {
  const k = saleKeys(saleId);
  await EXPIRE_SETTLED.run(
    ctx.redis,
    [k.meta, k.queued, k.stock, k.users, k.tickets, k.sent, k.returned],
    [SETTLED_TTL_SECONDS],
  );
}

const REPAIR_REFUSED: Record<number, string> = {
  [-1]: 'the sale is live; its stock is repaired only after it ends',
  [-2]: 'tickets in flight; run again when the queue is empty',
  [-3]: 'the stock changed while it was compared; run again',
};

async function queuedUnitsOf(ctx: ServiceContext, saleId: bigint): Promise<number> {
  const k = saleKeys(saleId);
  const seqs = await ctx.redis.zrange(k.queued, 0, -1);
  let units = 0;
  // In slices: a sale can have many thousands of tickets queued (one HMGET with all of them would not fit
  // in a call's arguments).
  for (let i = 0; i < seqs.length; i += 1000) {
    const raw = await ctx.redis.hmget(k.tickets, ...seqs.slice(i, i + 1000));
    for (const r of raw) units += r ? (JSON.parse(r) as { quantity: number }).quantity : 0;
  }
  return units;
}

/** The reconcile-flash-sales job: every sale that ended less than a day ago; failures are logged per sale. */
export async function reconcileFlashSales(ctx: ServiceContext) {
  const results: SaleReconciliation[] = [];
  const failed: Array<{ saleId: string; error: string }> = [];
  for (const sale of await recentSales(ctx.db, new Date(), 24 * 3600_000)) {
    // One sale that cannot be reconciled never keeps the others from it.
    try {
      results.push(await reconcileFlashSale(ctx, sale.id));
    } catch (err) {
      ctx.logger.error({ err, saleId: String(sale.id) }, 'flash sale could not be reconciled');
      failed.push({ saleId: String(sale.id), error: (err as Error).message });
    }
  }
  // The others were reconciled; the run still counts as failed so that it shows (metrics, alerts).
  if (failed.length > 0) throw new Error(`${failed.length} flash sale(s) could not be reconciled: ${failed[0]?.error}`);
  return { sales: results.length, notOk: results.filter((r) => r.action !== 'ok') };
}
