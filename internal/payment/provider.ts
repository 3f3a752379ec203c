import { createHash } from 'node:crypto';
import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface ChargeRequest {
  paymentId: bigint;
  orderId: bigint;
  amount: number;
  currency: string;
}

/** What the provider says about a charge when asked (reconciliation). */
export type ChargeStatus =
  | { status: 'SUCCEEDED'; providerTxnId: string; amount: number; currency: string; paidAt: Date }
  | { status: 'FAILED'; reason: string }
  | { status: 'PENDING' };

export interface PaymentProvider {
  name: string;
  /** Opens a charge at the provider; the payer completes it there and the provider calls our webhook. */
  createCharge(req: ChargeRequest): Promise<{ providerTxnId: string; payUrl: string }>;
  /** Asks the provider where a charge stands (for payments whose webhook never arrived). */
  queryCharge(req: ChargeRequest & { providerTxnId: string }): Promise<ChargeStatus>;
  /** Asks the provider to refund; its confirmation arrives later through the webhook (refund.succeeded). */
  refund(req: {
    refundId: bigint;
    paymentId: bigint;
    providerTxnId: string;
    amount: number;
  }): Promise<{ providerRefundId: string }>;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);
const outcomeKey = (paymentId: bigint) => `sandbox:charge:${paymentId}`;

/**
 * The sandbox provider for development and tests: no network. Charges and refunds are accepted at once;
 * the payer's side is played by `qianfan-order sandbox pay|fail|refund` (or POST /v1/sandbox/...),
 * which records the payer's choice (so a query answers it) and sends correctly signed webhooks.
 * Available only with payment.sandbox.enabled.
 */
function sandboxProvider(ctx: ServiceContext): PaymentProvider {
  return {
    name: 'sandbox',
    async createCharge(req) {
      const providerTxnId = `sbx_${short(`charge:${req.paymentId}`)}`;
      return { providerTxnId, payUrl: `sandbox://pay/${req.paymentId}` };
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
    async refund(req) {
      return { providerRefundId: `sbxr_${short(`refund:${req.refundId}`)}` };
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

export function providerFor(ctx: ServiceContext, name: string): PaymentProvider {
  const enabled = ctx.config.payment.providers;
  if (name === 'sandbox' && enabled.includes(name) && ctx.config.payment.sandbox.enabled) {
    return bounded(sandboxProvider(ctx), ctx.config.payment.providerTimeoutMs);
  }
  throw new AppError(
    'VALIDATION_FAILED',
    `payment provider '${name}' is not enabled (enabled: ${enabled.join(', ') || 'none'})`,
  );
}

/**
 * Every call to a provider ends within `ms`: a provider that does not answer is DEPENDENCY_UNAVAILABLE
 * (the caller retries; charges and refunds are keyed by our ids, so a late success is not a second one).
 */
export function bounded(p: PaymentProvider, ms: number): PaymentProvider {
  const within = <T>(what: string, call: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError('DEPENDENCY_UNAVAILABLE', `payment provider ${p.name} did not answer ${what} within ${ms} ms`),
          ),
        ms,
      );
    });
    return Promise.race([call, late]).finally(() => clearTimeout(timer));
  };
  return {
    name: p.name,
    createCharge: (req) => within('createCharge', p.createCharge(req)),
    queryCharge: (req) => within('queryCharge', p.queryCharge(req)),
    refund: (req) => within('refund', p.refund(req)),
  };
}
