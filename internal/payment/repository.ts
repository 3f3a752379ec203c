import { and, eq } from 'drizzle-orm';
import { payments, refunds } from '../model/index.js';
import type { Tx } from '../order/index.js';

export type PaymentRow = typeof payments.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;

const affected = (r: unknown) => (r as [{ affectedRows: number }])[0].affectedRows;

export async function getPayment(tx: Tx, id: bigint): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(eq(payments.id, id)).limit(1);
  return row;
}

export async function paymentsOfOrder(tx: Tx, orderId: bigint): Promise<PaymentRow[]> {
  return tx.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(payments.id);
}

/** PENDING -> SUCCEEDED. `keep` sets succeeded_order_id, whose unique index allows one kept payment per order. */
export async function settlePayment(tx: Tx, id: bigint, orderId: bigint, keep: boolean, paidAt: Date) {
  const r = await tx
    .update(payments)
    .set({ status: 'SUCCEEDED', succeededOrderId: keep ? orderId : null, paidAt })
    .where(and(eq(payments.id, id), eq(payments.status, 'PENDING')));
  return affected(r) === 1;
}

export async function failPayment(tx: Tx, id: bigint, reason: string) {
  const r = await tx
    .update(payments)
    .set({ status: 'FAILED', failureReason: reason.slice(0, 200) })
    .where(and(eq(payments.id, id), eq(payments.status, 'PENDING')));
  return affected(r) === 1;
}

export async function getRefund(tx: Tx, id: bigint): Promise<RefundRow | undefined> {
  const [row] = await tx.select().from(refunds).where(eq(refunds.id, id)).limit(1);
  return row;
}

export async function refundsOfOrder(tx: Tx, orderId: bigint): Promise<RefundRow[]> {
  return tx.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(refunds.id);
}

export async function settleRefund(tx: Tx, id: bigint, at: Date) {
  const r = await tx
    .update(refunds)
    .set({ status: 'SUCCEEDED', refundedAt: at })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'PENDING')));
  return affected(r) === 1;
}

export async function setProviderRefundId(tx: Tx, id: bigint, providerRefundId: string) {
  await tx.update(refunds).set({ providerRefundId }).where(eq(refunds.id, id));
}

export async function markPaymentRefunded(tx: Tx, id: bigint) {
  await tx
    .update(payments)
    .set({ status: 'REFUNDED' })
    .where(and(eq(payments.id, id), eq(payments.status, 'SUCCEEDED')));
}
