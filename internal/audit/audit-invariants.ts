import { reconcileFlashSale } from '../flashsale/index.js';
import { selectSql } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import {
  AUDIT_CHECKS,
  type AuditCheck,
  type AuditOrderRow,
  checkOrders,
  checkSkus,
  type Finding,
  recentSaleIds,
  SLICE_SQL,
} from './checks.js';

export interface AuditOptions {
  /** Orders per slice (one bounded range of ids, and one query per table for it). */
  sliceSize?: number;
  /** At most this many orders this run; the rest is left to the next run (the job) . */
  maxOrders?: number;
  /** Start after this order id; the job passes where its last run stopped. */
  afterOrderId?: string;
  /** Changes younger than this may still be in flight (a payment's refund, a deadline's close): skipped. */
  settleMs?: number;
  /** Called after every slice of orders, with how many orders were checked so far. */
  onProgress?: (checkedOrders: number) => void;
  now?: Date;
}

export interface AuditReport {
  checkedOrders: number;
  checkedSkus: number;
  checkedSales: number;
  /** The last order id checked; null when this run reached the newest order (the next run starts over). */
  stoppedAfterOrderId: string | null;
  findings: Finding[];
  /** Findings per check, every check listed (0 when it found nothing). */
  byCheck: Record<AuditCheck, number>;
}

const TX_LOG_KEEP_DAYS = 7; // cleanup-expired's default: older transitions' tx-log rows are gone

/**
 * Checks the invariants the chaos suite proves under crashes, against the live tables, reading only: an
 * order's line of transitions and its event per transition, money per order and per payment (captured =
 * kept + refunded), nothing pending past its deadline, stock per SKU, and flash sales in Redis against
 * MySQL. Orders are read in slices by id (a bounded range scan each); SKUs in pages by id.
 */
export async function auditInvariants(ctx: ServiceContext, opts: AuditOptions = {}): Promise<AuditReport> {
  const now = opts.now ?? new Date();
  const sliceSize = opts.sliceSize ?? 500;
  const maxOrders = opts.maxOrders ?? Number.POSITIVE_INFINITY;
  const bounds = {
    settledBefore: new Date(now.getTime() - (opts.settleMs ?? 10 * 60_000)),
    eventsSince: new Date(now.getTime() - (TX_LOG_KEEP_DAYS - 1) * 86_400_000),
  };
  const findings: Finding[] = [];
  const bad = (check: AuditCheck, ids: unknown[], detail: string) =>
    findings.push({ check, ids: ids.map(String).slice(0, 20), detail });

  let after = opts.afterOrderId ?? '0';
  let checkedOrders = 0;
  let reachedEnd = false;
  while (checkedOrders < maxOrders) {
    const limit = Math.min(sliceSize, maxOrders - checkedOrders);
    const slice = await selectSql<AuditOrderRow>(ctx.db, SLICE_SQL.orders, [after, limit]);
    await checkOrders(ctx, slice, bounds, bad);
    checkedOrders += slice.length;
    opts.onProgress?.(checkedOrders);
    if (slice.length < limit) {
      reachedEnd = true;
      break;
    }
    after = String(slice.at(-1)!.id);
  }

  let checkedSkus = 0;
  for (let skuAfter = '0'; ; ) {
    const page = await checkSkus(ctx, skuAfter, sliceSize, bad);
    checkedSkus += page.checked;
    if (page.lastId === null || page.checked < sliceSize) break;
    skuAfter = page.lastId;
  }

  // A live sale differs for a moment between a batch's commit and its settling in Redis (the ticket is
  // both sold and queued): a difference counts only with nothing queued, seen twice a second apart.
  const sales = await recentSaleIds(ctx, bad, now);
  const differs = async (id: string) => {
    const r = await reconcileFlashSale(ctx, BigInt(id), { dryRun: true });
    return r.action === 'reported' && r.queuedTickets === 0 ? r : undefined;
  };
  const suspects: string[] = [];
  for (const id of sales) if (await differs(id)) suspects.push(id);
  if (suspects.length > 0) await new Promise((r) => setTimeout(r, 1000));
  for (const id of suspects) {
    const r = await differs(id);
    if (r)
      bad(
        'flash sale Redis agrees with MySQL',
        [id],
        `Redis remaining ${r.redisRemaining}, MySQL says ${r.expectedRemaining}, nothing queued`,
      );
  }

  const byCheck = Object.fromEntries(AUDIT_CHECKS.map((c) => [c, 0])) as Record<AuditCheck, number>;
  for (const f of findings) byCheck[f.check] += 1;
  const m = serviceMetrics(ctx.metrics);
  for (const c of AUDIT_CHECKS) {
    m.auditFindings.set({ check: c }, byCheck[c]);
    // Every check's series exists from the first run at 0: increase() over a series that appears at its
    // first finding would miss that finding.
    m.auditFindingsTotal.inc({ check: c }, byCheck[c]);
  }
  m.auditOrdersChecked.inc(checkedOrders);
  for (const f of findings.slice(0, 50)) ctx.logger.error({ finding: f }, 'audit finding');
  return {
    checkedOrders,
    checkedSkus,
    checkedSales: sales.length,
    stoppedAfterOrderId: reachedEnd ? null : after,
    findings,
    byCheck,
  };
}

const CURSOR_KEY = 'audit:cursor';

/**
 * The audit-invariants job: `maxOrders` orders per run from where the last run stopped (a cursor in
 * Redis), back to the first order once it reaches the newest; every SKU and recent flash sale each run.
 * Never writes to MySQL; the only write is its own cursor.
 */
export async function auditInvariantsJob(ctx: ServiceContext, opts: { maxOrders?: number } = {}) {
  const from = (await ctx.redis.get(CURSOR_KEY).catch(() => null)) ?? '0';
  const r = await auditInvariants(ctx, { afterOrderId: from, maxOrders: opts.maxOrders ?? 20_000 });
  await ctx.redis
    .set(CURSOR_KEY, r.stoppedAfterOrderId ?? '0', 'EX', 7 * 86_400)
    .catch((err: unknown) =>
      ctx.logger.warn({ err }, 'audit cursor not saved; the next run starts at the first order'),
    );
  return { ...r, startedAfterOrderId: from };
}
