import { isIP } from 'node:net';
import { AppError } from '../errorx/index.js';
import { changeOrderSide, getOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { providerFor } from './provider.js';
import { insertPayment, type PaymentRow } from './repository.js';

export interface StartPaymentInput {
  orderId: bigint;
  userId: bigint;
  provider?: string;
  /** How the buyer pays at the provider (wechatpay: native|jsapi|app|h5, alipay: page|wap|app|precreate); empty: its first. */
  method?: string;
  /** WeChat JSAPI: the payer's openid under our appId. */
  openId?: string;
  /** The buyer's IP (WeChat H5 needs it). */
  clientIp?: string;
}

/**
 * Opens one payment attempt for the order total with the provider. Refused unless the order is
 * PENDING_PAYMENT and before its deadline; each call is a new attempt (the provider may succeed at most
 * one of them for this order; any other success is refunded automatically).
 */
export async function startPayment(
  ctx: ServiceContext,
  input: StartPaymentInput,
): Promise<{ payment: PaymentRow; payUrl: string; client: Record<string, string> }> {
  const order = await getOrder(ctx.db, input.orderId);
  if (!order || order.userId !== input.userId)
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  if (order.status !== 'PENDING_PAYMENT') {
    throw new AppError('ORDER_NOT_PAYABLE', `the order is ${order.status}; only PENDING_PAYMENT orders can be paid`, {
      currentStatus: order.status,
    });
  }
  if (order.payDeadline <= new Date()) {
    throw new AppError('ORDER_NOT_PAYABLE', 'the payment deadline has passed', { currentStatus: order.status });
  }
  const provider = providerFor(ctx, input.provider ?? ctx.config.payment.providers[0] ?? 'none');
  if (input.openId !== undefined && !/^[A-Za-z0-9_-]{1,128}$/.test(input.openId))
    throw new AppError('VALIDATION_FAILED', 'openId must be 1-128 letters, digits, _ or -', { field: 'openId' });
  if (input.clientIp !== undefined && isIP(input.clientIp) === 0)
    throw new AppError('VALIDATION_FAILED', 'clientIp must be an IPv4 or IPv6 address', { field: 'clientIp' });
  const method = input.method || provider.methods[0]!;
  if (!provider.methods.includes(method)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${provider.name} has no payment method '${method}' (methods: ${provider.methods.join(', ')})`,
      { field: 'method' },
    );
  }
  // The provider is asked before anything is written: a provider that fails or stalls leaves no row.
  const id = ctx.ids.next();
  const charge = await provider.createCharge({
    paymentId: id,
    orderId: order.id,
    amount: order.totalAmount,
    currency: order.currency,
    method,
    description: `Order ${order.id}`,
    expiresAt: order.payDeadline,
    payerOpenId: input.openId,
    clientIp: input.clientIp,
  });
  const row: PaymentRow = {
    id,
    orderId: order.id,
    provider: provider.name,
    providerTxnId: charge.providerTxnId,
    amount: order.totalAmount,
    currency: order.currency,
    status: 'PENDING',
    succeededOrderId: null,
    failureReason: null,
    raw: null,
    paidAt: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
  await changeOrderSide(ctx, order.id, (tx) => insertPayment(tx, row));
  return { payment: row, payUrl: charge.payUrl, client: charge.client };
}
