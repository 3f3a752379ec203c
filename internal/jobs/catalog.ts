import { closeStaleAfterSales } from '../aftersale/index.js';
import { auditInvariantsJob } from '../audit/index.js';
import type { Config } from '../config/index.js';
import { redriveDeadLetters } from '../deadletter/index.js';
import { autoConfirmReceipts } from '../delivery/index.js';
import { reconcileFlashSales, requeueLostTickets } from '../flashsale/index.js';
import { cleanupExpired } from '../ops/index.js';
import { closeExpiredOrders } from '../order/index.js';
import { reconcilePayments, resendRefunds } from '../payment/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface JobDef {
  name: string;
  /** Its key under `jobs` in the config (the cron schedule). */
  configKey: keyof Config['jobs'];
  /** Lease TTL: renewed while the job runs; a crashed holder's lease expires after it. */
  leaseMs: number;
  does: string;
  run(ctx: ServiceContext): Promise<unknown>;
  /** How many items a run's result says it handled (for metrics and the log line). */
  items(result: never): number;
}

/** Every scheduled job: one use case each, bounded batches, safe to run twice. */
export const jobs: JobDef[] = [
  {
    name: 'close-expired-orders',
    configKey: 'closeExpiredOrders',
    leaseMs: 30_000,
    does: 'cancel PENDING_PAYMENT orders past their deadline (backstop for order_timeout), 2,000 per run, going on where the last run stopped',
    run: (ctx) => closeExpiredOrders(ctx),
    items: (r: { closed: number }) => r.closed,
  },
  {
    name: 'auto-confirm-receipts',
    configKey: 'autoConfirmReceipts',
    leaseMs: 30_000,
    does: 'complete orders delivered more than order.autoConfirmDays ago, and orders shipped more than order.autoCompleteShippedDays ago with no delivery signal, 500 of each per run',
    run: (ctx) => autoConfirmReceipts(ctx),
    items: (r: { confirmed: number }) => r.confirmed,
  },
  {
    name: 'close-stale-after-sales',
    configKey: 'closeStaleAfterSales',
    leaseMs: 30_000,
    does: 'close approved returns not sent back within order.returnShipDays, 500 per run',
    run: (ctx) => closeStaleAfterSales(ctx),
    items: (r: { closed: number }) => r.closed,
  },
  {
    name: 'resend-refunds',
    configKey: 'resendRefunds',
    leaseMs: 30_000,
    does: 're-send refunds recorded but never accepted by the provider, 200 per run',
    run: (ctx) => resendRefunds(ctx),
    items: (r: { resent: number }) => r.resent,
  },
  {
    name: 'reconcile-payments',
    configKey: 'reconcilePayments',
    leaseMs: 30_000,
    does: 'ask providers about payments PENDING over 10 min; fix what is safe, report the rest',
    run: (ctx) => reconcilePayments(ctx),
    items: (r: { fixed: number }) => r.fixed,
  },
  {
    name: 'flashsale-requeue',
    configKey: 'flashsaleRequeue',
    leaseMs: 15_000,
    does: 're-send flash-sale tickets queued in Redis but never recorded in the DB',
    run: (ctx) => requeueLostTickets(ctx),
    items: (r: { resent: number; settled: number; failed: number }) => r.resent + r.settled + r.failed,
  },
  {
    name: 'reconcile-flash-sales',
    configKey: 'reconcileFlashSales',
    leaseMs: 30_000,
    does: 'load sales missing from Redis; repair Redis stock when no ticket is in flight',
    run: (ctx) => reconcileFlashSales(ctx),
    items: (r: { sales: number }) => r.sales,
  },
  {
    name: 'redrive-dead-letters',
    configKey: 'redriveDeadLetters',
    leaseMs: 30_000,
    does: 're-publish payment results whose broker retries ran out (an outage), once dependencies answer; count open dead letters',
    run: (ctx) => redriveDeadLetters(ctx),
    items: (r: { redriven: number }) => r.redriven,
  },
  {
    name: 'cleanup-expired',
    configKey: 'cleanupExpired',
    leaseMs: 60_000,
    does: 'delete expired idempotency keys, old tx-log rows and resolved dead letters, 1000 rows a statement',
    run: (ctx) => cleanupExpired(ctx),
    items: (r: { idempotencyKeys: number; txLog: number; resolvedDeadLetters: number }) =>
      r.idempotencyKeys + r.txLog + r.resolvedDeadLetters,
  },
  {
    name: 'audit-invariants',
    configKey: 'auditInvariants',
    leaseMs: 60_000,
    does: 'check the stock, money, event and flash-sale invariants on 20,000 orders per run (going on where the last run stopped), every SKU and recent sale; reads only, findings are metrics and log lines',
    run: (ctx) => auditInvariantsJob(ctx),
    items: (r: { checkedOrders: number }) => r.checkedOrders,
  },
];

export function jobNamed(name: string): JobDef | undefined {
  return jobs.find((j) => j.name === name);
}
