import type { AlipaySdk } from 'alipay-sdk';
import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { alipayClient, fromCst, verifyAlipayNotification } from './alipay.js';
import { enqueueOnce } from './enqueue.js';
import { yuanToFen } from './money.js';
import type { PaymentNotification } from './notification.js';
import { providerFor } from './provider.js';
import { getPayment, getRefund } from './repository.js';
import { withinProviderLimit } from './webhook.js';
import { verifyWechatNotification, wechatpayPlatformKeys } from './wechatpay.js';

/** What became of a provider's notification: queued for the consumer, or nothing to do (acknowledged). */
export type ProviderWebhookOutcome =
  | { queued: true; type: PaymentNotification['type'] }
  | { queued: false; type: string };

const wechatKeys = new WeakMap<ServiceContext, Record<string, string>>();
const alipaySdks = new WeakMap<ServiceContext, AlipaySdk>();

const decimalId = (value: unknown, field: string): bigint => {
  if (typeof value !== 'string' || !/^[1-9]\d{0,18}$/.test(value))
    throw new AppError('PAYMENT_NOT_FOUND', `${field} '${String(value).slice(0, 64)}' is not one of our ids`, {
      field,
    });
  return BigInt(value);
};

/** The payment a notification's out_trade_no names, which must be one opened with this provider. */
async function paymentOf(ctx: ServiceContext, provider: string, outTradeNo: unknown) {
  const payment = await getPayment(ctx.db, decimalId(outTradeNo, 'out_trade_no'));
  if (!payment || payment.provider !== provider)
    throw new AppError('PAYMENT_NOT_FOUND', `no ${provider} payment has out_trade_no ${String(outTradeNo)}`);
  return payment;
}

async function refundOf(ctx: ServiceContext, outRefundNo: unknown) {
  const refund = await getRefund(ctx.db, decimalId(outRefundNo, 'out_refund_no'));
  if (!refund) throw new AppError('REFUND_NOT_FOUND', `no refund has out_refund_no ${String(outRefundNo)}`);
  return refund;
}

const int = (v: unknown, field: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
    throw new AppError('VALIDATION_FAILED', `notification field ${field} is not an amount in fen`, { field });
  return v;
};

/**
 * WeChat Pay's notification (POST /v1/payments/webhooks/wechatpay): verified and decrypted, checked to be
 * for our merchant and app, mapped to a payment or refund result and queued on payment_notify. Events
 * the service does not act on are acknowledged without being queued.
 */
export async function ingestWechatpayWebhook(
  ctx: ServiceContext,
  input: { headers: Record<string, string | undefined>; body: string },
): Promise<ProviderWebhookOutcome> {
  providerFor(ctx, 'wechatpay');
  const c = ctx.config.payment.wechatpay;
  let keys = wechatKeys.get(ctx);
  if (!keys) {
    keys = wechatpayPlatformKeys(c);
    wechatKeys.set(ctx, keys);
  }
  const notice = verifyWechatNotification(c, keys, {
    headers: input.headers,
    body: input.body,
    toleranceSeconds: ctx.config.payment.webhookToleranceSeconds,
  });
  await withinProviderLimit(ctx, 'wechatpay');
  const r = notice.resource;
  if (r.mchid !== c.mchId || (r.appid !== undefined && r.appid !== c.appId)) {
    throw new AppError('WEBHOOK_NOT_OURS', `notification is for merchant ${String(r.mchid)} / app ${String(r.appid)}`);
  }
  let n: PaymentNotification;
  if (notice.eventType === 'TRANSACTION.SUCCESS') {
    const payment = await paymentOf(ctx, 'wechatpay', r.out_trade_no);
    const amount = r.amount as { total?: unknown; currency?: unknown } | undefined;
    if (r.trade_state !== 'SUCCESS') return { queued: false, type: `trade_state ${String(r.trade_state)}` };
    n = {
      type: 'payment.succeeded',
      paymentId: String(payment.id),
      orderId: String(payment.orderId),
      providerTxnId: String(r.transaction_id ?? '').slice(0, 64),
      amount: int(amount?.total, 'amount.total'),
      currency: String(amount?.currency ?? 'CNY'),
      occurredAt: typeof r.success_time === 'string' ? r.success_time : new Date().toISOString(),
    };
  } else if (notice.eventType.startsWith('REFUND.')) {
    const refund = await refundOf(ctx, r.out_refund_no);
    const amount = r.amount as { refund?: unknown } | undefined;
    const base = {
      refundId: String(refund.id),
      orderId: String(refund.orderId),
      amount: int(amount?.refund, 'amount.refund'),
    };
    if (notice.eventType === 'REFUND.SUCCESS') {
      n = {
        type: 'refund.succeeded',
        ...base,
        occurredAt: typeof r.success_time === 'string' ? r.success_time : new Date().toISOString(),
      };
    } else {
      n = {
        type: 'refund.failed',
        ...base,
        failureReason: `wechatpay ${notice.eventType} ${String(r.refund_status ?? '')}`.slice(0, 200),
        occurredAt: new Date().toISOString(),
      };
    }
  } else {
    return { queued: false, type: notice.eventType };
  }
  await enqueueOnce(ctx, `wechatpay:${input.headers['wechatpay-signature']}`, n);
  return { queued: true, type: n.type };
}

/**
 * Alipay's asynchronous notification (POST /v1/payments/webhooks/alipay, form-encoded): RSA2 signature
 * over the sorted parameters, our app id, notify_time within the window; a trade success (or close) is
 * queued on payment_notify. Refund notices need nothing: refunds are settled by Alipay's synchronous
 * answer and its refund query.
 */
export async function ingestAlipayWebhook(
  ctx: ServiceContext,
  input: { body: string; now?: number },
): Promise<ProviderWebhookOutcome> {
  providerFor(ctx, 'alipay');
  const c = ctx.config.payment.alipay;
  let sdk = alipaySdks.get(ctx);
  if (!sdk) {
    sdk = alipayClient(c, ctx.config.payment.providerTimeoutMs);
    alipaySdks.set(ctx, sdk);
  }
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(input.body)) {
    if (k in params) throw new AppError('VALIDATION_FAILED', `notification parameter ${k} appears twice`, { field: k });
    params[k] = v;
  }
  const p = verifyAlipayNotification(sdk, params);
  if (p.app_id !== c.appId) throw new AppError('WEBHOOK_NOT_OURS', `notification is for app ${p.app_id}`);
  const tolerance = ctx.config.payment.webhookToleranceSeconds;
  const sent = p.notify_time ? fromCst(p.notify_time).getTime() : Number.NaN;
  const skew = Math.round(Math.abs((input.now ?? Date.now()) - sent) / 1000);
  if (!(skew <= tolerance))
    throw new AppError('INVALID_SIGNATURE', `notify_time is ${skew} s away from now (tolerance ${tolerance} s)`);
  await withinProviderLimit(ctx, 'alipay');
  if (p.out_biz_no || p.refund_fee) return { queued: false, type: 'refund notice' };
  const status = p.trade_status;
  if (status !== 'TRADE_SUCCESS' && status !== 'TRADE_FINISHED' && status !== 'TRADE_CLOSED')
    return { queued: false, type: `trade_status ${status ?? 'none'}` };
  const payment = await paymentOf(ctx, 'alipay', p.out_trade_no);
  const base = {
    paymentId: String(payment.id),
    orderId: String(payment.orderId),
    providerTxnId: (p.trade_no ?? '').slice(0, 64),
    amount: yuanToFen(p.total_amount ?? '', 'total_amount'),
    currency: 'CNY',
  };
  const n: PaymentNotification =
    status === 'TRADE_CLOSED'
      ? { type: 'payment.failed', ...base, failureReason: 'alipay TRADE_CLOSED', occurredAt: new Date().toISOString() }
      : {
          type: 'payment.succeeded',
          ...base,
          occurredAt: (p.gmt_payment ? fromCst(p.gmt_payment) : new Date()).toISOString(),
        };
  await enqueueOnce(ctx, `alipay:${p.sign}`, n);
  return { queued: true, type: n.type };
}
