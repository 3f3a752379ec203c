import type { ServiceContext } from '../svc/index.js';
import { providerFor } from './provider.js';
import { getPayment, type RefundRow, setProviderRefundId } from './repository.js';

/** Asks the provider to refund a recorded refund (providers deduplicate by our refund id). */
export async function sendRefund(ctx: ServiceContext, refund: RefundRow): Promise<void> {
  const payment = await getPayment(ctx.db, refund.paymentId);
  if (!payment) throw new Error(`refund ${refund.id} names payment ${refund.paymentId}, which does not exist`);
  const provider = providerFor(ctx, payment.provider);
  const { providerRefundId } = await provider.refund({
    refundId: refund.id,
    paymentId: payment.id,
    providerTxnId: payment.providerTxnId ?? '',
    amount: refund.amount,
  });
  await setProviderRefundId(ctx.db, refund.id, providerRefundId);
}
