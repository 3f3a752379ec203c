import { createHash } from 'node:crypto';
import { AppError } from '../errorx/index.js';

export interface ChargeRequest {
  paymentId: bigint;
  orderId: bigint;
  amount: number;
  currency: string;
}

export interface PaymentProvider {
  name: string;
  /** Opens a charge at the provider; the payer completes it there and the provider calls our webhook. */
  createCharge(req: ChargeRequest): Promise<{ providerTxnId: string; payUrl: string }>;
  /** Asks the provider to refund; its confirmation arrives later through the webhook (refund.succeeded). */
  refund(req: {
    refundId: bigint;
    paymentId: bigint;
    providerTxnId: string;
    amount: number;
  }): Promise<{ providerRefundId: string }>;
}

const short = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 24);

/**
 * The sandbox provider for development and tests: no network. Charges and refunds are accepted at once;
 * the payer's side is played by `qianfan-order sandbox pay|fail|refund` (or POST /v1/sandbox/...),
 * which sends correctly signed webhooks to the HTTP API.
 */
export const sandboxProvider: PaymentProvider = {
  name: 'sandbox',
  async createCharge(req) {
    const providerTxnId = `sbx_${short(`charge:${req.paymentId}`)}`;
    return { providerTxnId, payUrl: `sandbox://pay/${req.paymentId}` };
  },
  async refund(req) {
    return { providerRefundId: `sbxr_${short(`refund:${req.refundId}`)}` };
  },
};

const providers: Record<string, PaymentProvider> = { sandbox: sandboxProvider };

export function providerFor(name: string, enabled: string[]): PaymentProvider {
  const p = providers[name];
  if (!p || !enabled.includes(name)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `payment provider '${name}' is not enabled (enabled: ${enabled.join(', ')})`,
    );
  }
  return p;
}
