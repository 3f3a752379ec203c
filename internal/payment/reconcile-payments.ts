import { getOrderDetail, markPaid } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { sweepEach } from '../sweep/index.js';
import { applyPaymentResult } from './apply-payment-result.js';
import { closePaymentAtProvider } from './close-payments.js';
import { providerEnabled, providerFor } from './provider.js';
import {
  keptPaymentsOfUnpaidOrders,
  type PaymentRow,
  paidOrdersWithoutKeptPayment,
  stalePendingPayments,
} from './repository.js';

export interface ReconcileInput {
  /** Look at payments and orders created since this time (default: 3 days ago). */
  since?: Date;
  now?: Date;
  /** A payment still PENDING this long after it was opened is asked about at its provider (default 10 min). */
  pendingAfterMs?: number;
  /** Rows per query (pages of PENDING payments; the other checks look at this many). */
  limit?: number;
  /** PENDING payments asked about in one run at most (default 10 pages). */
  maxPending?: number;
  /** Ask and report only: nothing is applied. */
  dryRun?: boolean;
}

export interface ReconcileFinding {
  kind:
    | 'PENDING_RESOLVED'
    | 'PENDING_AT_PROVIDER'
    | 'PENDING_EXPIRED'
    | 'PENDING_PROVIDER_OFF'
    | 'KEPT_PAYMENT_ORDER_NOT_PAID'
    | 'PAID_ORDER_WITHOUT_PAYMENT';
  paymentId?: string;
  orderId: string;
  /** What was done (fixed) or why it needs a person (reported). */
  action: string;
  fixed: boolean;
}

export interface PaymentsReport {
  checked: number;
  fixed: number;
  reported: number;
  failed: number;
  findings: ReconcileFinding[];
}

/**
 * Payment reconciliation (job `reconcile-payments`, command `qianfan-order reconcile payments`):
 * - PENDING payments older than `pendingAfterMs`, a page of `limit` at a time by id: the provider is
 *   asked; a success or failure it reports is applied exactly as its webhook would have been (a success
 *   the order cannot keep is refunded); one it still calls pending whose order left PENDING_PAYMENT is
 *   closed as EXPIRED and not asked about again; one whose provider this process has not enabled is
 *   reported (PENDING_PROVIDER_OFF), not counted as failed. Each payment on its own (one failing never stops the rest);
 * - a kept payment whose order is still PENDING_PAYMENT: the order is marked PAID; in any other unpaid
 *   state it is reported;
 * - an order in a paid state without a kept payment: reported (a person must look at it).
 * Safe to run any number of times: every fix goes through the same guarded use cases.
 */
export async function reconcilePayments(ctx: ServiceContext, input: ReconcileInput = {}): Promise<PaymentsReport> {
  const now = input.now ?? new Date();
  const since = input.since ?? new Date(now.getTime() - 3 * 86_400_000);
  const limit = input.limit ?? 500;
  const before = new Date(now.getTime() - (input.pendingAfterMs ?? 10 * 60_000));
  const findings: ReconcileFinding[] = [];

  const swept = { total: 0, failed: 0 };
  const maxPending = input.maxPending ?? 10 * limit;
  for (let afterId: bigint | undefined; swept.total < maxPending; ) {
    const page = await stalePendingPayments(ctx.db, since, before, limit, afterId);
    const r = await sweepEach(
      ctx,
      'reconcile-payments',
      page,
      (p) => String(p.id),
      async (p) => {
        findings.push(await resolvePending(ctx, p, Boolean(input.dryRun)));
      },
    );
    swept.total += r.total;
    swept.failed += r.failed;
    if (page.length < limit) break;
    afterId = page[page.length - 1]!.id;
  }

  for (const { payment, orderStatus } of await keptPaymentsOfUnpaidOrders(ctx.db, since, limit)) {
    const orderId = String(payment.orderId);
    if (orderStatus === 'PENDING_PAYMENT' && input.dryRun) {
      findings.push({
        kind: 'KEPT_PAYMENT_ORDER_NOT_PAID',
        paymentId: String(payment.id),
        orderId,
        action: 'would mark the order PAID',
        fixed: false,
      });
    } else if (orderStatus === 'PENDING_PAYMENT') {
      const r = await markPaid(ctx, {
        orderId: payment.orderId,
        amount: payment.amount,
        currency: payment.currency,
        paidAt: payment.paidAt ?? now,
        actorId: 'reconcile',
        settlePayment: async () => {}, // the payment is already SUCCEEDED and kept
      });
      findings.push({
        kind: 'KEPT_PAYMENT_ORDER_NOT_PAID',
        paymentId: String(payment.id),
        orderId,
        action: `order marked ${r.order.status}`,
        fixed: true,
      });
    } else {
      findings.push({
        kind: 'KEPT_PAYMENT_ORDER_NOT_PAID',
        paymentId: String(payment.id),
        orderId,
        action: `order is ${orderStatus} while payment ${payment.id} is kept: refund it by hand or restore the order`,
        fixed: false,
      });
    }
  }
  for (const o of await paidOrdersWithoutKeptPayment(ctx.db, since, limit)) {
    findings.push({
      kind: 'PAID_ORDER_WITHOUT_PAYMENT',
      orderId: String(o.id),
      action: `order is ${o.status} but has no kept payment: check the provider's statement`,
      fixed: false,
    });
  }
  const fixed = findings.filter((f) => f.fixed).length;
  const report = {
    checked: swept.total,
    fixed,
    reported: findings.length - fixed,
    failed: swept.failed,
    findings,
  };
  if (report.reported > 0)
    ctx.logger.warn({ findings: findings.filter((f) => !f.fixed) }, 'payment reconciliation found problems to look at');
  return report;
}

async function resolvePending(ctx: ServiceContext, p: PaymentRow, dryRun: boolean): Promise<ReconcileFinding> {
  const base = { kind: 'PENDING_RESOLVED' as const, paymentId: String(p.id), orderId: String(p.orderId) };
  if (!providerEnabled(ctx, p.provider))
    return {
      ...base,
      kind: 'PENDING_PROVIDER_OFF',
      action: `provider '${p.provider}' is not enabled here: turn it on (payment.providers) to check this payment, or check it in the provider's console`,
      fixed: false,
    };
  const answer = await providerFor(ctx, p.provider).queryCharge({
    paymentId: p.id,
    orderId: p.orderId,
    amount: p.amount,
    currency: p.currency,
    providerTxnId: p.providerTxnId ?? '',
  });
  if (answer.status === 'PENDING') {
    const order = (await getOrderDetail(ctx, { orderId: p.orderId }).catch(() => undefined))?.order;
    if (order && order.status !== 'PENDING_PAYMENT') {
      if (dryRun)
        return { ...base, kind: 'PENDING_EXPIRED', action: `order is ${order.status}: would close`, fixed: false };
      // Closed at the provider first, so the buyer can no longer pay it.
      const closed = await closePaymentAtProvider(ctx, p, `order is ${order.status}`);
      if (closed === 'PAID')
        return {
          ...base,
          kind: 'PENDING_AT_PROVIDER',
          action: 'paid meanwhile: applied on the next run',
          fixed: false,
        };
      return { ...base, kind: 'PENDING_EXPIRED', action: `order is ${order.status}: closed as EXPIRED`, fixed: true };
    }
    return { ...base, kind: 'PENDING_AT_PROVIDER', action: 'the provider has no result yet', fixed: false };
  }
  if (dryRun) return { ...base, action: `provider says ${answer.status}: would apply it`, fixed: false };
  const outcome = await applyPaymentResult(ctx, {
    paymentId: p.id,
    status: answer.status,
    amount: answer.status === 'SUCCEEDED' ? answer.amount : p.amount,
    currency: answer.status === 'SUCCEEDED' ? answer.currency : p.currency,
    providerTxnId: answer.status === 'SUCCEEDED' ? answer.providerTxnId : (p.providerTxnId ?? ''),
    failureReason: answer.status === 'FAILED' ? answer.reason : undefined,
    occurredAt: answer.status === 'SUCCEEDED' ? answer.paidAt : undefined,
  });
  return { ...base, action: `provider says ${answer.status}: ${outcome}`, fixed: true };
}
