import { autoConfirmReceipts } from '../internal/delivery/index.js';
import { reconcileFlashSales, requeueLostTickets } from '../internal/flashsale/index.js';
import { cleanupExpired } from '../internal/ops/index.js';
import { closeExpiredOrders } from '../internal/order/index.js';
import { reconcilePayments, resendRefunds } from '../internal/payment/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

export interface JobDef {
  name: string;
  /** node-cron expression (seconds field first), evaluated in UTC. */
  schedule: string;
  /** Upper bound of one run; also the lease that keeps other job instances from running it meanwhile. */
  leaseMs: number;
  run(ctx: ServiceContext): Promise<unknown>;
}

/** Every scheduled job: one use case each. */
export const jobs: JobDef[] = [
  { name: 'close-expired-orders', schedule: '15 * * * * *', leaseMs: 55_000, run: (ctx) => closeExpiredOrders(ctx) },
  {
    name: 'auto-confirm-receipts',
    schedule: '0 5 * * * *',
    leaseMs: 10 * 60_000,
    run: (ctx) => autoConfirmReceipts(ctx),
  },
  { name: 'resend-refunds', schedule: '30 */5 * * * *', leaseMs: 4 * 60_000, run: (ctx) => resendRefunds(ctx) },
  {
    name: 'reconcile-payments',
    schedule: '45 */10 * * * *',
    leaseMs: 9 * 60_000,
    run: (ctx) => reconcilePayments(ctx),
  },
  {
    name: 'flashsale-requeue',
    schedule: '*/5 * * * * *',
    leaseMs: 4_000,
    run: (ctx) => requeueLostTickets(ctx),
  },
  {
    name: 'reconcile-flash-sales',
    schedule: '30 * * * * *',
    leaseMs: 50_000,
    run: (ctx) => reconcileFlashSales(ctx),
  },
  { name: 'cleanup-expired', schedule: '0 17 * * * *', leaseMs: 10 * 60_000, run: (ctx) => cleanupExpired(ctx) },
];
