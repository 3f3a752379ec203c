import { readFileSync } from 'node:fs';
import { AlipaySdk } from 'alipay-sdk';
import type { AlipayConfig } from '../config/index.js';
import { AppError } from '../errorx/index.js';
import { fenToYuan, yuanToFen } from './money.js';
import type { ChargeStatus, PaymentProvider, RefundOutcome, RefundRequest, StartedCharge } from './provider.js';

export const ALIPAY_METHODS = ['page', 'wap', 'app', 'precreate'] as const;

/** The SDK client of this config: public-key mode, or certificate mode when its three files are given. */
export function alipayClient(c: AlipayConfig, timeoutMs: number): AlipaySdk {
  const certMode = c.appCertFile !== '';
  return new AlipaySdk({
    appId: c.appId,
    privateKey: readFileSync(c.privateKeyFile, 'utf8'),
    keyType: 'PKCS8',
    signType: 'RSA2',
    gateway: c.endpoint,
    timeout: timeoutMs,
    camelcase: false,
    ...(certMode
      ? {
          appCertContent: readFileSync(c.appCertFile),
          alipayRootCertContent: readFileSync(c.alipayRootCertFile),
          alipayPublicCertContent: readFileSync(c.alipayPublicCertFile),
        }
      : { alipayPublicKey: readFileSync(c.alipayPublicKeyFile, 'utf8') }),
  });
}

/** Alipay's answer codes after which the call may be sent again (its docs: unknown outcome, retry). */
const RETRYABLE_SUB = new Set(['ACQ.SYSTEM_ERROR', 'ACQ.REFUND_FEE_ERROR_RETRY', 'aop.ACQ.SYSTEM_ERROR']);

type AlipayAnswer = { code?: string; msg?: string; sub_code?: string; sub_msg?: string } & Record<string, unknown>;

/** Local time in China as Alipay writes it: 2026-12-05 14:30:00. */
const CST = (d: Date) => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Alipay open platform on the official alipay-sdk: requests signed RSA2 and responses' signatures
 * checked by the SDK. Amounts are yuan strings with two decimals, converted exactly from fen.
 */
export function alipayProvider(c: AlipayConfig, timeoutMs: number): PaymentProvider {
  const sdk = alipayClient(c, timeoutMs);

  /** One gateway call; no answer or a system error is DEPENDENCY_UNAVAILABLE, a business refusal is returned. */
  const exec = async (
    method: string,
    bizContent: Record<string, unknown>,
    common: Record<string, string> = {},
  ): Promise<AlipayAnswer> => {
    let r: AlipayAnswer;
    try {
      r = (await sdk.exec(method, { ...common, bizContent }, { validateSign: true })) as AlipayAnswer;
    } catch (err) {
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `alipay ${method}: ${(err as Error).message.slice(0, 300)}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (r.code === '20000' || RETRYABLE_SUB.has(r.sub_code ?? '')) {
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        `alipay ${method}: ${r.code} ${r.sub_code ?? ''} ${r.sub_msg ?? r.msg ?? ''}`,
      );
    }
    return r;
  };
  const refused = (method: string, r: AlipayAnswer) =>
    new AppError(
      'PAYMENT_PROVIDER_REFUSED',
      `alipay ${method}: ${r.code} ${r.sub_code ?? ''} ${r.sub_msg ?? r.msg ?? ''}`,
      {
        providerCode: r.sub_code ?? r.code ?? '',
      },
    );

  const refundQuery = async (req: RefundRequest): Promise<RefundOutcome> => {
    const r = await exec('alipay.trade.fastpay.refund.query', {
      out_trade_no: String(req.paymentId),
      out_request_no: String(req.refundId),
      query_options: ['gmt_refund_pay'],
    });
    if (r.code !== '10000') throw refused('alipay.trade.fastpay.refund.query', r);
    if (r.refund_status === 'REFUND_SUCCESS')
      return {
        status: 'SUCCEEDED',
        providerRefundId: String(req.refundId),
        at: typeof r.gmt_refund_pay === 'string' ? fromCst(r.gmt_refund_pay) : new Date(),
      };
    // No refund under this request number: it was never accepted.
    return { status: 'PENDING', providerRefundId: '' };
  };

  return {
    name: 'alipay',
    methods: ALIPAY_METHODS,
    async createCharge(req): Promise<StartedCharge> {
      if (req.currency !== 'CNY') throw new AppError('VALIDATION_FAILED', 'alipay takes CNY only');
      const biz = {
        out_trade_no: String(req.paymentId),
        total_amount: fenToYuan(req.amount),
        subject: req.description.slice(0, 256),
        time_expire: CST(req.expiresAt),
        passback_params: String(req.orderId),
      };
      const providerTxnId = String(req.paymentId);
      if (req.method === 'precreate') {
        const r = await exec('alipay.trade.precreate', biz, { notify_url: c.notifyUrl });
        if (r.code !== '10000') throw refused('alipay.trade.precreate', r);
        const qr = String(r.qr_code ?? '');
        return { providerTxnId, payUrl: qr, client: { qrCode: qr } };
      }
      if (req.method === 'app') {
        const orderString = sdk.sdkExecute('alipay.trade.app.pay', {
          notify_url: c.notifyUrl,
          bizContent: { ...biz, product_code: 'QUICK_MSECURITY_PAY' },
        });
        return { providerTxnId, payUrl: '', client: { orderString } };
      }
      const [method, product] =
        req.method === 'wap'
          ? ['alipay.trade.wap.pay', 'QUICK_WAP_WAY']
          : ['alipay.trade.page.pay', 'FAST_INSTANT_TRADE_PAY'];
      // GET: a URL the browser is sent to (the SDK signs it); no call to Alipay is made here.
      const url = sdk.pageExecute(method, 'GET', {
        notify_url: c.notifyUrl,
        bizContent: { ...biz, product_code: product },
      });
      return { providerTxnId, payUrl: url, client: { payUrl: url } };
    },
    async queryCharge(req): Promise<ChargeStatus> {
      const r = await exec('alipay.trade.query', { out_trade_no: String(req.paymentId) });
      if (r.sub_code === 'ACQ.TRADE_NOT_EXIST') return { status: 'PENDING' };
      if (r.code !== '10000') throw refused('alipay.trade.query', r);
      if (r.trade_status === 'TRADE_SUCCESS' || r.trade_status === 'TRADE_FINISHED') {
        return {
          status: 'SUCCEEDED',
          providerTxnId: String(r.trade_no ?? ''),
          amount: yuanToFen(String(r.total_amount ?? ''), 'total_amount'),
          currency: 'CNY',
          paidAt: typeof r.send_pay_date === 'string' ? fromCst(r.send_pay_date) : new Date(),
        };
      }
      if (r.trade_status === 'TRADE_CLOSED') return { status: 'FAILED', reason: 'alipay TRADE_CLOSED' };
      return { status: 'PENDING' };
    },
    async closeCharge(req) {
      const r = await exec('alipay.trade.close', { out_trade_no: String(req.paymentId) });
      // Never scanned: Alipay has no trade yet, and none can be made after time_expire; nothing to close.
      if (r.code === '10000' || r.sub_code === 'ACQ.TRADE_NOT_EXIST') return 'CLOSED';
      if (r.sub_code === 'ACQ.TRADE_STATUS_ERROR') {
        const q = await this.queryCharge({ ...req, providerTxnId: '' });
        if (q.status === 'SUCCEEDED') return 'PAID';
        return 'CLOSED';
      }
      throw refused('alipay.trade.close', r);
    },
    async refund(req) {
      const r = await exec('alipay.trade.refund', {
        out_trade_no: String(req.paymentId),
        refund_amount: fenToYuan(req.amount),
        out_request_no: String(req.refundId),
        refund_reason: req.reason.slice(0, 256),
      });
      if (r.code === '10000') {
        // fund_change N on a repeated request: this refund was made before; the query says when.
        if (r.fund_change === 'Y')
          return {
            status: 'SUCCEEDED',
            providerRefundId: String(req.refundId),
            at: typeof r.gmt_refund_pay === 'string' ? fromCst(r.gmt_refund_pay) : new Date(),
          };
        return refundQuery(req);
      }
      return {
        status: 'FAILED',
        providerRefundId: '',
        reason: refused('alipay.trade.refund', r).message.slice(0, 200),
      };
    },
    queryRefund: refundQuery,
  };
}

/** "2026-12-05 14:30:00" (China Standard Time) as a Date. */
export function fromCst(s: string): Date {
  const d = new Date(`${s.replace(' ', 'T')}+08:00`);
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/** What an Alipay notification says once its signature and app id were checked. */
export type AlipayNotice = Record<string, string>;

/**
 * Verifies an Alipay asynchronous notification: the RSA2 signature over the sorted parameters (the SDK's
 * checkNotifySignV2, without sign and sign_type) with Alipay's public key.
 */
export function verifyAlipayNotification(sdk: AlipaySdk, params: Record<string, string>): AlipayNotice {
  if (!params.sign) throw new AppError('INVALID_SIGNATURE', 'notification has no sign');
  let ok = false;
  try {
    ok = sdk.checkNotifySignV2(params);
  } catch {
    ok = false;
  }
  if (!ok) throw new AppError('INVALID_SIGNATURE', 'notification sign does not match');
  return params;
}
