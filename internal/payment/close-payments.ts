import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';
import { changeOrderSide, getOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { providerEnabled, providerFor } from './provider.js';
import { expirePayment, type PaymentRow, paymentsOfOrder } from './repository.js';

const orderEvent = z.object({ orderId: idString, status: z.string(), totalAmount: z.number().int() });
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
  if (closed === 'CLOSED') {
    await changeOrderSide(ctx, p.orderId, (tx) => expirePayment(tx, p.id, `${reason}; closed at ${p.provider}`));
  }
  return closed;
}

/**
 * The consumer of order.cancelled and order.price_adjusted (order_event, group
 * qianfan-order-payment-close): the order's PENDING payments that can no longer be kept are closed at
 * their provider: all of them for a cancelled order; those opened for another total than the order's now
 * after a price adjustment (an attempt opened after it is left open). A provider that fails is retried
 * (the message comes back); one no longer enabled is skipped with a warning (reconciliation reports what
 * stays open).
 */
export async function closeUnkeepablePayments(ctx: ServiceContext, type: string, data: unknown) {
  const r = orderEvent.safeParse(data);
  if (!r.success) throw new AppError('VALIDATION_FAILED', `${type} event is invalid: ${r.error.issues[0]?.message}`);
  const orderId = BigInt(r.data.orderId);
  let open = (await paymentsOfOrder(ctx.db, orderId)).filter((p) => p.status === 'PENDING');
  if (type !== 'order.cancelled') {
    const order = await getOrder(ctx.db, orderId);
    if (order?.status === 'PENDING_PAYMENT') open = open.filter((p) => p.amount !== order.totalAmount);
  }
  const out = { closed: 0, paid: 0, skipped: 0 };
  const why = type === 'order.cancelled' ? 'order cancelled' : 'order price adjusted';
  for (const p of open) {
    if (!providerEnabled(ctx, p.provider)) {
      ctx.logger.warn({ paymentId: String(p.id), provider: p.provider }, 'payment provider not enabled; not closed');
      out.skipped++;
      continue;
    }
    const res = await closePaymentAtProvider(ctx, p, why);
    if (res === 'CLOSED') out.closed++;
    else out.paid++;
  }
  return out;
}
