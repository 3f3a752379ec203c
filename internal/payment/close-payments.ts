import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';
import type { ServiceContext } from '../svc/index.js';
import { providerEnabled, providerFor } from './provider.js';
import { expirePayment, type PaymentRow, paymentsOfOrder } from './repository.js';

const cancelled = z.object({ orderId: idString, status: z.literal('CANCELLED') });

/**
 * Closes a payment still open at its provider, so it can no longer be paid, and records it EXPIRED.
 * 'PAID' when the buyer paid it meanwhile: its notification (or reconciliation) brings the success,
 * which the order, no longer payable, refunds.
 */
export async function closePaymentAtProvider(ctx: ServiceContext, p: PaymentRow, reason: string) {
  const closed = await providerFor(ctx, p.provider).closeCharge({
    paymentId: p.id,
    orderId: p.orderId,
    amount: p.amount,
    currency: p.currency,
  });
  if (closed === 'CLOSED') await expirePayment(ctx.db, p.id, `${reason}; closed at ${p.provider}`);
  return closed;
}

/**
 * The consumer of order.cancelled (order_event, group qianfan-order-payment-close): every PENDING payment
 * of the cancelled order is closed at its provider. A provider that fails is retried (the message comes
 * back); one no longer enabled is skipped with a warning (reconciliation reports what stays open).
 */
export async function closeCancelledOrderPayments(ctx: ServiceContext, data: unknown) {
  const r = cancelled.safeParse(data);
  if (!r.success)
    throw new AppError('VALIDATION_FAILED', `order.cancelled event is invalid: ${r.error.issues[0]?.message}`);
  const orderId = BigInt(r.data.orderId);
  const open = (await paymentsOfOrder(ctx.db, orderId)).filter((p) => p.status === 'PENDING');
  const out = { closed: 0, paid: 0, skipped: 0 };
  for (const p of open) {
    if (!providerEnabled(ctx, p.provider)) {
      ctx.logger.warn({ paymentId: String(p.id), provider: p.provider }, 'payment provider not enabled; not closed');
      out.skipped++;
      continue;
    }
    const res = await closePaymentAtProvider(ctx, p, 'order cancelled');
    if (res === 'CLOSED') out.closed++;
    else out.paid++;
  }
  return out;
}
