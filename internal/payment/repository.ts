import { and, eq, gt, gte, inArray, isNotNull, isNull, lt, notInArray, sql } from 'drizzle-orm';
import { affectedRows as affected, type Db, orders, payments, refunds, type Tx } from '../model/index.js';

export type PaymentRow = typeof payments.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;

export async function getPayment(tx: Tx, id: bigint): Promise<PaymentRow | undefined> {
  const [row] = await tx.select().from(payments).where(eq(payments.id, id)).limit(1);
  return row;
}

export async function paymentsOfOrder(tx: Tx, orderId: bigint): Promise<PaymentRow[]> {
  return tx.select().from(payments).where(eq(payments.orderId, orderId)).orderBy(payments.id);
}

/**
 * PENDING | FAILED -> SUCCEEDED (a success reported after a failure is money taken). `keep` sets
 * succeeded_order_id, whose unique index allows one kept payment per order.
 */
export async function settlePayment(
  tx: Tx,
  id: bigint,
  orderId: bigint,
  keep: boolean,
  paidAt: Date,
  providerTxnId?: string,
) {
  const r = await tx
    .update(payments)
    .set({
      status: 'SUCCEEDED',
      succeededOrderId: keep ? orderId : null,
      paidAt,
      // The provider's own transaction id, known once paid (WeChat Pay transaction_id, Alipay trade_no),
      // replaces our out_trade_no (the payment id) that stood in for it; any other id stays as it is.
      ...(providerTxnId
        ? {
            providerTxnId: sql`CASE WHEN ${payments.providerTxnId} = ${String(id)} THEN ${providerTxnId.slice(0, 64)} ELSE ${payments.providerTxnId} END`,
          }
        : {}),
    })
    .where(and(eq(payments.id, id), inArray(payments.status, ['PENDING', 'FAILED', 'EXPIRED'])));
  return affected(r) === 1;
}

/**
 * Closes an attempt still PENDING whose order no longer waits for payment (cancelled, or paid by another
 * attempt): reconciliation stops asking about it. A success the provider reports later is still applied
 * (kept or refunded, like a success after a failure).
 */
export async function expirePayment(tx: Tx, id: bigint, reason: string) {
  const r = await tx
    .update(payments)
    .set({ status: 'EXPIRED', failureReason: reason.slice(0, 200) })
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

/** PENDING | FAILED -> SUCCEEDED (a provider may confirm a refund it first reported as failed). */
export async function settleRefund(tx: Tx, id: bigint, at: Date) {
  const r = await tx
    .update(refunds)
    .set({ status: 'SUCCEEDED', refundedAt: at })
    .where(and(eq(refunds.id, id), inArray(refunds.status, ['PENDING', 'FAILED'])));
  return affected(r) === 1;
}

/** PENDING -> FAILED with the provider's reason. */
export async function failRefundRow(tx: Tx, id: bigint, reason: string) {
  const r = await tx
    .update(refunds)
    .set({ status: 'FAILED', reason: reason.slice(0, 200) })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'PENDING')));
  return affected(r) === 1;
}

/** FAILED -> PENDING for another attempt at the provider. */
export async function reopenRefund(tx: Tx, id: bigint) {
  const r = await tx
    .update(refunds)
    .set({ status: 'PENDING', providerRefundId: null })
    .where(and(eq(refunds.id, id), eq(refunds.status, 'FAILED')));
  return affected(r) === 1;
}

/** Refunds recorded but not yet accepted by the provider, created before `before`. */
export async function unsentRefunds(tx: Tx, before: Date, limit: number): Promise<RefundRow[]> {
  return tx
    .select()
    .from(refunds)
    .where(and(eq(refunds.status, 'PENDING'), isNull(refunds.providerRefundId), lt(refunds.createdAt, before)))
    .orderBy(refunds.id)
    .limit(limit);
}

/** Refunds the provider accepted but has not settled yet, created before `before` (asked about by id). */
export async function sentUnsettledRefunds(tx: Tx, before: Date, limit: number): Promise<RefundRow[]> {
  return tx
    .select()
    .from(refunds)
    .where(and(eq(refunds.status, 'PENDING'), isNotNull(refunds.providerRefundId), lt(refunds.createdAt, before)))
    .orderBy(refunds.id)
    .limit(limit);
}

/** Refunds still PENDING that were created before `before` (sent or not): the "refunds stuck" gauge. */
export async function countPendingRefunds(tx: Db, before: Date): Promise<number> {
  const [row] = await tx
    .select({ n: sql<string>`COUNT(*)` })
    .from(refunds)
    .where(and(eq(refunds.status, 'PENDING'), lt(refunds.createdAt, before)));
  return Number(row?.n ?? 0);
}

/**
 * Money that did not go back: refunds the provider refused (FAILED) and orders left REFUND_FAILED, each
 * with how long the oldest has waited (seconds; 0 when there is none). Both wait for an operator.
 */
export async function failedRefundAges(tx: Db, now: Date) {
  const age = (col: typeof refunds.updatedAt | typeof orders.updatedAt) =>
    sql<string | null>`TIMESTAMPDIFF(SECOND, MIN(${col}), ${now})`;
  const [r] = await tx
    .select({ n: sql<string>`COUNT(*)`, oldest: age(refunds.updatedAt) })
    .from(refunds)
    .where(eq(refunds.status, 'FAILED'));
  const [o] = await tx
    .select({ n: sql<string>`COUNT(*)`, oldest: age(orders.updatedAt) })
    .from(orders)
    .where(eq(orders.status, 'REFUND_FAILED'));
  return {
    refunds: { count: Number(r?.n ?? 0), oldestSeconds: Math.max(0, Number(r?.oldest ?? 0)) },
    orders: { count: Number(o?.n ?? 0), oldestSeconds: Math.max(0, Number(o?.oldest ?? 0)) },
  };
}

/** The order's kept payment (the one succeeded payment that paid it), if any. */
export async function keptPaymentOf(tx: Tx, orderId: bigint): Promise<PaymentRow | undefined> {
  const [row] = await tx
    .select()
    .from(payments)
    .where(and(eq(payments.orderId, orderId), isNotNull(payments.succeededOrderId)))
    .limit(1);
  return row;
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

export async function insertRefund(tx: Tx, row: typeof refunds.$inferInsert) {
  await tx.insert(refunds).values(row);
}

export async function insertPayment(tx: Tx, row: typeof payments.$inferInsert) {
  await tx.insert(payments).values(row);
}

/** Payments still PENDING that were opened in [since, before): their webhook may never have arrived. */
export async function stalePendingPayments(
  tx: Tx,
  since: Date,
  before: Date,
  limit: number,
  afterId?: bigint,
): Promise<PaymentRow[]> {
  return tx
    .select()
    .from(payments)
    .where(
      and(
        eq(payments.status, 'PENDING'),
        gte(payments.createdAt, since),
        lt(payments.createdAt, before),
        afterId === undefined ? undefined : gt(payments.id, afterId),
      ),
    )
    .orderBy(payments.id)
    .limit(limit);
}

/** Kept (succeeded) payments whose order is not in a paid state. */
export async function keptPaymentsOfUnpaidOrders(tx: Db, since: Date, limit: number) {
  return tx
    .select({ payment: payments, orderStatus: orders.status })
    .from(payments)
    .innerJoin(orders, eq(orders.id, payments.orderId))
    .where(
      and(isNotNull(payments.succeededOrderId), gte(payments.createdAt, since), notInArray(orders.status, PAID_STATES)),
    )
    .limit(limit);
}

/** Orders in a paid state without a kept payment. */
export async function paidOrdersWithoutKeptPayment(tx: Db, since: Date, limit: number) {
  return tx
    .select({ id: orders.id, status: orders.status })
    .from(orders)
    .leftJoin(payments, eq(payments.succeededOrderId, orders.id))
    .where(and(inArray(orders.status, PAID_STATES), gte(orders.createdAt, since), isNull(payments.id)))
    .limit(limit);
}

/** States an order reaches only through a kept payment. */
const PAID_STATES = [
  'PAID',
  'PARTIALLY_SHIPPED',
  'SHIPPED',
  'DELIVERED',
  'COMPLETED',
  'REFUNDING',
  'REFUNDED',
  'REFUND_FAILED',
];
