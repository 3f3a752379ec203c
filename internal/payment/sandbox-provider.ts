import { createHash } from 'node:crypto';
import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import type { PaymentProvider } from './provider.js';

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);
const outcomeKey = (paymentId: bigint) => `sandbox:charge:${paymentId}`;

/**
 * The sandbox provider for development and tests: no network. Charges and refunds are accepted at once;
 * the payer's side is played by `qianfan-order sandbox pay|fail|refund` (or POST /v1/sandbox/...),
 * which records the payer's choice (so a query answers it) and sends correctly signed webhooks.
 * Available only with payment.sandbox.enabled.
 */
export function sandboxProvider(ctx: ServiceContext): PaymentProvider {
  return {
    name: 'sandbox',
    methods: ['redirect'],
    async createCharge(req) {
      const providerTxnId = `sbx_${short(`charge:${req.paymentId}`)}`;
      const payUrl = `sandbox://pay/${req.paymentId}`;
      return { providerTxnId, payUrl, client: { payUrl } };
    },
    async queryCharge(req) {
      const outcome = await ctx.redis.get(outcomeKey(req.paymentId));
      if (outcome === 'succeed') {
        return {
          status: 'SUCCEEDED',
          providerTxnId: req.providerTxnId,
          amount: req.amount,
          currency: req.currency,
          paidAt: new Date(),
        };
      }
      if (outcome === 'fail') return { status: 'FAILED', reason: 'declined in the sandbox' };
      return { status: 'PENDING' };
    },
    async closeCharge(req) {
      return (await ctx.redis.get(outcomeKey(req.paymentId))) === 'succeed' ? 'PAID' : 'CLOSED';
    },
    async refund(req) {
      return { status: 'PENDING', providerRefundId: `sbxr_${short(`refund:${req.refundId}`)}` };
    },
    async queryRefund(req) {
      return { status: 'PENDING', providerRefundId: `sbxr_${short(`refund:${req.refundId}`)}` };
    },
  };
}

/** The sandbox payer chose an outcome for a charge: remembered for a week so queries can answer it. */
export async function recordSandboxOutcome(ctx: ServiceContext, paymentId: bigint, outcome: 'succeed' | 'fail') {
  requireSandbox(ctx);
  await ctx.redis.set(outcomeKey(paymentId), outcome, 'EX', 7 * 86_400);
}

/** Refuses when the sandbox is not enabled by config. */
export function requireSandbox(ctx: ServiceContext): void {
  if (!ctx.config.payment.sandbox.enabled) {
    throw new AppError('FORBIDDEN', 'the sandbox payment provider is disabled (payment.sandbox.enabled is false)');
  }
}
