import { AppError, withDeadline } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { alipayProvider } from './alipay.js';
import { sandboxProvider } from './sandbox-provider.js';
import { wechatpayProvider } from './wechatpay.js';

export interface ChargeRequest {
  paymentId: bigint;
  orderId: bigint;
  /** Fen. */
  amount: number;
  currency: string;
}

/** Opening a charge: how the buyer pays (each provider's methods) and until when. */
export interface StartChargeRequest extends ChargeRequest {
  method: string;
  description: string;
  expiresAt: Date;
  /** WeChat JSAPI (mini program / official account): the payer's openid under our appId. */
  payerOpenId?: string;
  /** WeChat H5: the buyer's IP as the provider must see it. */
  clientIp?: string;
}

export interface StartedCharge {
  /** What the provider knows the charge by until it is paid (then its transaction id). */
  providerTxnId: string;
  /** Where the buyer completes it (a QR code URL, a redirect, or the provider's app scheme). */
  payUrl: string;
  /** Everything the client needs to open the provider's cashier (signed where the provider wants it). */
  client: Record<string, string>;
}

/** What the provider says about a charge when asked (reconciliation). */
export type ChargeStatus =
  | { status: 'SUCCEEDED'; providerTxnId: string; amount: number; currency: string; paidAt: Date }
  | { status: 'FAILED'; reason: string }
  | { status: 'PENDING' };

export interface RefundRequest {
  refundId: bigint;
  paymentId: bigint;
  orderId: bigint;
  providerTxnId: string;
  /** Fen refunded, and the payment it comes from. */
  amount: number;
  paymentAmount: number;
  currency: string;
  reason: string;
}

/** Where a refund stands at the provider: settled now, or its notification (or a later query) settles it. */
export type RefundOutcome =
  | { status: 'PENDING'; providerRefundId: string }
  | { status: 'SUCCEEDED'; providerRefundId: string; at: Date }
  | { status: 'FAILED'; providerRefundId: string; reason: string };

export interface PaymentProvider {
  name: string;
  /** The payment methods (`method` of StartPayment) this provider offers; the first is the default. */
  methods: readonly string[];
  /** Opens a charge at the provider; the payer completes it there and the provider calls our webhook. */
  createCharge(req: StartChargeRequest): Promise<StartedCharge>;
  /** Asks the provider where a charge stands (for payments whose webhook never arrived). */
  queryCharge(req: ChargeRequest & { providerTxnId: string }): Promise<ChargeStatus>;
  /** Closes an unpaid charge so it can no longer be paid; 'PAID' when it was paid meanwhile. */
  closeCharge(req: ChargeRequest): Promise<'CLOSED' | 'PAID'>;
  /** Asks for a refund, idempotent by our refund id; a refusal the provider gives is FAILED with its reason. */
  refund(req: RefundRequest): Promise<RefundOutcome>;
  /** Asks where a refund sent earlier stands. */
  queryRefund(req: RefundRequest): Promise<RefundOutcome>;
}

const built = new WeakMap<ServiceContext, Map<string, PaymentProvider>>();

function build(ctx: ServiceContext, name: string): PaymentProvider | undefined {
  const { payment } = ctx.config;
  if (!payment.providers.includes(name)) return undefined;
  if (name === 'sandbox') return payment.sandbox.enabled ? sandboxProvider(ctx) : undefined;
  if (name === 'wechatpay') return wechatpayProvider(payment.wechatpay, payment.providerTimeoutMs);
  if (name === 'alipay') return alipayProvider(payment.alipay, payment.providerTimeoutMs);
  return undefined;
}

/** Whether this process has the provider of that name on (payment.providers, and the sandbox's own switch). */
export function providerEnabled(ctx: ServiceContext, name: string): boolean {
  const { payment } = ctx.config;
  return payment.providers.includes(name) && (name !== 'sandbox' || payment.sandbox.enabled);
}

/** The enabled provider of that name (SDK clients are built once per process), or VALIDATION_FAILED. */
export function providerFor(ctx: ServiceContext, name: string): PaymentProvider {
  let cache = built.get(ctx);
  if (!cache) {
    cache = new Map();
    built.set(ctx, cache);
  }
  let p = cache.get(name);
  if (!p) {
    const raw = build(ctx, name);
    if (!raw) {
      const enabled = ctx.config.payment.providers;
      throw new AppError(
        'VALIDATION_FAILED',
        `payment provider '${name}' is not enabled (enabled: ${enabled.join(', ') || 'none'})`,
        { field: 'provider' },
      );
    }
    p = bounded(raw, ctx.config.payment.providerTimeoutMs);
    cache.set(name, p);
  }
  return p;
}

/**
 * Every call to a provider ends within `ms`: a provider that does not answer is DEPENDENCY_UNAVAILABLE
 * (the caller retries; charges and refunds are keyed by our ids, so a late success is not a second one).
 */
export function bounded(p: PaymentProvider, ms: number): PaymentProvider {
  const within = <T>(what: string, call: Promise<T>): Promise<T> =>
    withDeadline(
      call,
      ms,
      () => new AppError('DEPENDENCY_UNAVAILABLE', `payment provider ${p.name} did not answer ${what} within ${ms} ms`),
    );
  return {
    name: p.name,
    methods: p.methods,
    createCharge: (req) => within('createCharge', p.createCharge(req)),
    queryCharge: (req) => within('queryCharge', p.queryCharge(req)),
    closeCharge: (req) => within('closeCharge', p.closeCharge(req)),
    refund: (req) => within('refund', p.refund(req)),
    queryRefund: (req) => within('queryRefund', p.queryRefund(req)),
  };
}
