import { measureAfterSales } from '../aftersale/index.js';
import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { providerFor } from './provider.js';
import {
  countPendingRefunds,
  failedRefundAges,
  getPayment,
  type RefundRow,
  sentUnsettledRefunds,
  unsentRefunds,
} from './repository.js';
import { publishRefundOutcome, refundRequestOf, sendRefund } from './send-refund.js';

/** Asks the provider where an accepted refund stands; a settled answer goes through payment_notify. */
async function askAbout(ctx: ServiceContext, refund: RefundRow): Promise<void> {
  const payment = await getPayment(ctx.db, refund.paymentId);
  if (!payment || payment.provider === 'sandbox') return; // the sandbox settles by its payer only
  const outcome = await providerFor(ctx, payment.provider).queryRefund(refundRequestOf(refund, payment));
  await publishRefundOutcome(ctx, refund, outcome);
}

/**
 * Refunds recorded but never accepted by the provider (the process died between the DB commit and the
 * provider call) are sent again; refunds accepted but not settled after `olderThanMs` (a lost
 * notification, or a settled answer whose enqueue failed) are asked about at the provider. Each on its
 * own: one that fails does not stop the rest.
 */
export async function resendRefunds(
  ctx: ServiceContext,
  input: { now?: Date; olderThanMs?: number; limit?: number } = {},
) {
  const before = new Date((input.now ?? new Date()).getTime() - (input.olderThanMs ?? 60_000));
  const stuck = await unsentRefunds(ctx.db, before, input.limit ?? 200);
  const r = await sweepEach(
    ctx,
    'resend-refunds',
    stuck,
    (x) => String(x.id),
    (refund) => sendRefund(ctx, refund),
  );
  const unsettled = await sentUnsettledRefunds(ctx.db, before, input.limit ?? 200);
  const asked = await sweepEach(
    ctx,
    'resend-refunds',
    unsettled,
    (x) => String(x.id),
    (refund) => askAbout(ctx, refund),
  );
  // Pending for half an hour or more: the provider has not answered, whatever was resent (alert: refunds stuck).
  const now = input.now ?? new Date();
  const pending = await countPendingRefunds(ctx.db, new Date(now.getTime() - 30 * 60_000));
  const m = serviceMetrics(ctx.metrics);
  m.stuckRefunds.set(pending);
  // Refused by the provider: nothing retries these by itself (alert: refunds failed, by age).
  const refused = await failedRefundAges(ctx.db, now);
  m.refundsFailed.set({ of: 'refund' }, refused.refunds.count);
  m.refundsFailedOldest.set({ of: 'refund' }, refused.refunds.oldestSeconds);
  m.refundsFailed.set({ of: 'order' }, refused.orders.count);
  m.refundsFailedOldest.set({ of: 'order' }, refused.orders.oldestSeconds);
  // After-sales waiting on someone, by state (alert: an after-sale waiting on the merchant).
  const afterSales = await measureAfterSales(ctx, now);
  return {
    due: r.total,
    resent: r.ok,
    failed: r.failed + asked.failed,
    asked: asked.total,
    stuck: pending,
    refused,
    afterSales,
  };
}
