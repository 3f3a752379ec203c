import { and, eq, isNull, lt } from 'drizzle-orm';
import { refunds } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { providerFor } from './provider.js';
import { getPayment, setProviderRefundId } from './repository.js';

/**
 * Refunds recorded but never accepted by the provider (the process died between the DB commit and the
 * provider call) are sent again. Providers deduplicate by our refund id.
 */
export async function resendRefunds(ctx: ServiceContext, input: { now?: Date; olderThanMs?: number } = {}) {
  const before = new Date((input.now ?? new Date()).getTime() - (input.olderThanMs ?? 60_000));
  const stuck = await ctx.db
    .select()
    .from(refunds)
    .where(and(eq(refunds.status, 'PENDING'), isNull(refunds.providerRefundId), lt(refunds.createdAt, before)))
    .limit(200);
  for (const r of stuck) {
    const payment = await getPayment(ctx.db, r.paymentId);
    if (!payment) continue;
    const provider = providerFor(payment.provider, ctx.config.payment.providers);
    const { providerRefundId } = await provider.refund({
      refundId: r.id,
      paymentId: payment.id,
      providerTxnId: payment.providerTxnId ?? '',
      amount: r.amount,
    });
    await setProviderRefundId(ctx.db, r.id, providerRefundId);
  }
  return { resent: stuck.length };
}
