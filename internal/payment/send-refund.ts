import type { ServiceContext } from '../svc/index.js';
import { enqueueNotification } from './enqueue.js';
import { providerFor, type RefundOutcome, type RefundRequest } from './provider.js';
import { getPayment, type PaymentRow, type RefundRow, setProviderRefundId } from './repository.js';

/**
 * Asks the provider to refund a recorded refund (providers deduplicate by our refund id). An outcome the
 * provider gives at once (Alipay settles refunds synchronously; WeChat Pay may refuse one) goes through
 * payment_notify like a notification, so it is applied in order with the order's other payment events.
 */
export async function sendRefund(ctx: ServiceContext, refund: RefundRow, reason = 'refund'): Promise<RefundOutcome> {
  const payment = await getPayment(ctx.db, refund.paymentId);
  if (!payment) throw new Error(`refund ${refund.id} names payment ${refund.paymentId}, which does not exist`);
  const provider = providerFor(ctx, payment.provider);
  const outcome = await provider.refund(refundRequestOf(refund, payment, reason));
  await setProviderRefundId(ctx.db, refund.id, outcome.providerRefundId || `${provider.name}:${refund.id}`);
  await publishRefundOutcome(ctx, refund, outcome);
  return outcome;
}

/** What a provider is told about a refund of a payment. */
export function refundRequestOf(refund: RefundRow, payment: PaymentRow, reason = 'refund'): RefundRequest {
  return {
    refundId: refund.id,
    paymentId: payment.id,
    orderId: refund.orderId,
    providerTxnId: payment.providerTxnId ?? '',
    amount: refund.amount,
    paymentAmount: payment.amount,
    currency: payment.currency,
    reason: refund.reason || reason,
  };
}

/** A settled refund outcome onto payment_notify (PENDING ones wait for the provider's notification or a query). */
export async function publishRefundOutcome(ctx: ServiceContext, refund: RefundRow, outcome: RefundOutcome) {
  if (outcome.status === 'PENDING') return;
  await enqueueNotification(
    ctx,
    outcome.status === 'SUCCEEDED'
      ? {
          type: 'refund.succeeded',
          refundId: String(refund.id),
          orderId: String(refund.orderId),
          amount: refund.amount,
          occurredAt: outcome.at.toISOString(),
        }
      : {
          type: 'refund.failed',
          refundId: String(refund.id),
          orderId: String(refund.orderId),
          amount: refund.amount,
          failureReason: outcome.reason.slice(0, 200),
          occurredAt: new Date().toISOString(),
        },
  );
}
