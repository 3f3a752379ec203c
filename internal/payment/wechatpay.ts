import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Aes, Decorator, Formatter, Rsa } from 'wechatpay-axios-plugin';
import type { WechatpayConfig } from '../config/index.js';
import { AppError } from '../errorx/index.js';
import type { ChargeStatus, PaymentProvider, RefundOutcome, RefundRequest, StartedCharge } from './provider.js';

export const WECHATPAY_METHODS = ['native', 'jsapi', 'app', 'h5'] as const;

/** The platform key(s) that sign WeChat Pay's responses and notifications, by serial (or public key id). */
export function wechatpayPlatformKeys(c: WechatpayConfig): Record<string, string> {
  if (c.platformPublicKeyId !== '') return { [c.platformPublicKeyId]: readFileSync(c.platformPublicKeyFile, 'utf8') };
  const cert = new X509Certificate(readFileSync(c.platformCertificateFile, 'utf8'));
  return { [cert.serialNumber.toUpperCase()]: cert.publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** WeChat Pay's documented error codes after which the same request may be sent again. */
const RETRYABLE = new Set([
  'SYSTEM_ERROR',
  'SYSTEMERROR',
  'FREQUENCY_LIMITED',
  'BANK_ERROR',
  'RESOURCE_ALREADY_EXISTS',
]);

interface WxError {
  status?: number;
  code?: string;
  message: string;
}

function describe(err: unknown): WxError {
  // An axios error carries the HTTP answer, if there was one, as `response`.
  const e = err as { message?: string; response?: { status?: number; data?: { code?: string; message?: string } } };
  const body = typeof e.response?.data === 'object' ? e.response.data : undefined;
  return { status: e.response?.status, code: body?.code, message: body?.message ?? e.message ?? String(err) };
}

/**
 * An error of a WeChat Pay call as ours: no answer, a 5xx, a bad response signature or a code WeChat Pay
 * calls retryable is DEPENDENCY_UNAVAILABLE (sent again later, keyed by our ids); any other 4xx is the
 * provider refusing (PAYMENT_PROVIDER_REFUSED with its code).
 */
function asAppError(what: string, err: unknown): AppError {
  const e = describe(err);
  const refused = e.status !== undefined && e.status >= 400 && e.status < 500 && !RETRYABLE.has(e.code ?? '');
  return new AppError(
    refused ? 'PAYMENT_PROVIDER_REFUSED' : 'DEPENDENCY_UNAVAILABLE',
    `wechatpay ${what}: ${e.code ?? e.status ?? 'no answer'} ${e.message}`,
    { providerCode: e.code ?? '' },
    { cause: err },
  );
}

const TIME = (d: Date) => {
  // RFC 3339 in China Standard Time, as WeChat Pay writes it: 2026-12-05T14:30:00+08:00.
  const cst = new Date(d.getTime() + 8 * 3_600_000);
  return `${cst.toISOString().slice(0, 19)}+08:00`;
};

interface WxTransaction {
  trade_state: string;
  trade_state_desc?: string;
  transaction_id?: string;
  success_time?: string;
  amount?: { total: number; currency: string };
}

/** WeChat Pay APIv3 on wechatpay-axios-plugin: requests signed and responses verified by the SDK. */
export function wechatpayProvider(c: WechatpayConfig, timeoutMs: number): PaymentProvider {
  const privateKey = readFileSync(c.merchantPrivateKeyFile, 'utf8');
  const api = Decorator.jsonBased({
    mchid: c.mchId,
    serial: c.merchantSerialNo,
    privateKey,
    certs: wechatpayPlatformKeys(c),
    baseURL: c.endpoint.endsWith('/') ? c.endpoint : `${c.endpoint}/`,
    timeout: timeoutMs,
  } as Parameters<typeof Decorator.jsonBased>[0]);

  const call = async <T>(what: string, run: () => Promise<{ data: T }>): Promise<T> => {
    try {
      return (await run()).data;
    } catch (err) {
      throw asAppError(what, err);
    }
  };

  /** The client-side parameters of JSAPI and APP payments, signed with the merchant key as WeChat wants. */
  const clientParams = (method: string, prepayId: string): Record<string, string> => {
    const timeStamp = String(Formatter.timestamp());
    const nonceStr = Formatter.nonce();
    if (method === 'app') {
      const sign = Rsa.sign(Formatter.joinedByLineFeed(c.appId, timeStamp, nonceStr, prepayId), privateKey);
      return {
        appid: c.appId,
        partnerid: c.mchId,
        prepayid: prepayId,
        package: 'Sign=WXPay',
        noncestr: nonceStr,
        timestamp: timeStamp,
        sign,
      };
    }
    const pkg = `prepay_id=${prepayId}`;
    const paySign = Rsa.sign(Formatter.joinedByLineFeed(c.appId, timeStamp, nonceStr, pkg), privateKey);
    return { appId: c.appId, timeStamp, nonceStr, package: pkg, signType: 'RSA', paySign };
  };

  const refundOutcome = (r: { refund_id?: string; status?: string; success_time?: string }): RefundOutcome => {
    const providerRefundId = r.refund_id ?? '';
    if (r.status === 'SUCCESS')
      return { status: 'SUCCEEDED', providerRefundId, at: r.success_time ? new Date(r.success_time) : new Date() };
    if (r.status === 'CLOSED' || r.status === 'ABNORMAL')
      return { status: 'FAILED', providerRefundId, reason: `wechatpay refund ${r.status}` };
    return { status: 'PENDING', providerRefundId };
  };

  return {
    name: 'wechatpay',
    methods: WECHATPAY_METHODS,
    async createCharge(req): Promise<StartedCharge> {
      if (req.currency !== 'CNY') throw new AppError('VALIDATION_FAILED', 'wechatpay takes CNY only');
      const method = req.method;
      const body: Record<string, unknown> = {
        appid: c.appId,
        mchid: c.mchId,
        description: req.description.slice(0, 127),
        out_trade_no: String(req.paymentId),
        time_expire: TIME(req.expiresAt),
        attach: String(req.orderId),
        notify_url: c.notifyUrl,
        amount: { total: req.amount, currency: 'CNY' },
      };
      if (method === 'jsapi') {
        if (!req.payerOpenId)
          throw new AppError('VALIDATION_FAILED', 'wechatpay jsapi needs the payer openid', { field: 'openId' });
        body.payer = { openid: req.payerOpenId };
      }
      if (method === 'h5') {
        body.scene_info = { payer_client_ip: req.clientIp ?? '127.0.0.1', h5_info: { type: 'Wap' } };
      }
      const r = await call<{ code_url?: string; prepay_id?: string; h5_url?: string }>(`${method} order`, () =>
        api.post(`v3/pay/transactions/${method}`, body),
      );
      const providerTxnId = String(req.paymentId);
      if (method === 'native')
        return { providerTxnId, payUrl: r.code_url ?? '', client: { codeUrl: r.code_url ?? '' } };
      if (method === 'h5') return { providerTxnId, payUrl: r.h5_url ?? '', client: { h5Url: r.h5_url ?? '' } };
      return { providerTxnId, payUrl: '', client: clientParams(method, r.prepay_id ?? '') };
    },
    async queryCharge(req): Promise<ChargeStatus> {
      const r: WxTransaction = await call<WxTransaction>('query', () =>
        api.get(`v3/pay/transactions/out-trade-no/${req.paymentId}`, { params: { mchid: c.mchId } }),
      ).catch((err: AppError) => {
        if (err.details?.providerCode === 'ORDER_NOT_EXIST' || err.details?.providerCode === 'ORDERNOTEXIST')
          return { trade_state: 'NOTPAY' } as WxTransaction;
        throw err;
      });
      if (r.trade_state === 'SUCCESS' || r.trade_state === 'REFUND') {
        return {
          status: 'SUCCEEDED',
          providerTxnId: r.transaction_id ?? '',
          amount: r.amount?.total ?? 0,
          currency: r.amount?.currency ?? '',
          paidAt: r.success_time ? new Date(r.success_time) : new Date(),
        };
      }
      if (r.trade_state === 'CLOSED' || r.trade_state === 'REVOKED' || r.trade_state === 'PAYERROR') {
        return {
          status: 'FAILED',
          reason: `wechatpay ${r.trade_state}${r.trade_state_desc ? `: ${r.trade_state_desc}` : ''}`,
        };
      }
      return { status: 'PENDING' };
    },
    async closeCharge(req) {
      try {
        await call('close', () =>
          api.post(`v3/pay/transactions/out-trade-no/${req.paymentId}/close`, { mchid: c.mchId }),
        );
        return 'CLOSED';
      } catch (err) {
        if (
          (err as AppError).details?.providerCode === 'ORDERPAID' ||
          (err as AppError).details?.providerCode === 'ORDER_PAID'
        )
          return 'PAID';
        throw err;
      }
    },
    async refund(req: RefundRequest) {
      try {
        const r = await call<{ refund_id?: string; status?: string; success_time?: string }>('refund', () =>
          api.post('v3/refund/domestic/refunds', {
            out_trade_no: String(req.paymentId),
            out_refund_no: String(req.refundId),
            reason: req.reason.slice(0, 80),
            notify_url: c.notifyUrl,
            amount: { refund: req.amount, total: req.paymentAmount, currency: 'CNY' },
          }),
        );
        return refundOutcome(r);
      } catch (err) {
        if (err instanceof AppError && err.code === 'PAYMENT_PROVIDER_REFUSED')
          return { status: 'FAILED', providerRefundId: '', reason: err.message.slice(0, 200) };
        throw err;
      }
    },
    async queryRefund(req: RefundRequest) {
      const r = await call<{ refund_id?: string; status?: string; success_time?: string }>('refund query', () =>
        api.get(`v3/refund/domestic/refunds/${req.refundId}`),
      );
      return refundOutcome(r);
    },
  };
}

/** A WeChat Pay notification after its signature was checked and its resource decrypted. */
export interface WechatNotice {
  id: string;
  eventType: string;
  resource: Record<string, unknown>;
}

/**
 * Verifies a WeChat Pay notification as its documentation says: the platform key named by
 * Wechatpay-Serial signs `timestamp\nnonce\nbody\n` (Wechatpay-Signature), the timestamp is within the
 * window, and the AEAD_AES_256_GCM resource decrypts with the APIv3 key (which authenticates it).
 */
export function verifyWechatNotification(
  c: WechatpayConfig,
  keys: Record<string, string>,
  input: { headers: Record<string, string | undefined>; body: string; toleranceSeconds: number; now?: number },
): WechatNotice {
  const h = input.headers;
  const [ts, nonce, serial, signature] = [
    h['wechatpay-timestamp'],
    h['wechatpay-nonce'],
    h['wechatpay-serial'],
    h['wechatpay-signature'],
  ];
  if (!ts || !nonce || !serial || !signature)
    throw new AppError('INVALID_SIGNATURE', 'missing Wechatpay-Timestamp, -Nonce, -Serial or -Signature');
  const key = keys[serial];
  if (!key)
    throw new AppError('INVALID_SIGNATURE', `Wechatpay-Serial ${serial.slice(0, 64)} is not a platform key we hold`);
  const skew = Math.abs(Math.floor((input.now ?? Date.now()) / 1000) - Number(ts));
  if (!/^\d{1,12}$/.test(ts) || skew > input.toleranceSeconds)
    throw new AppError(
      'INVALID_SIGNATURE',
      `Wechatpay-Timestamp is ${skew} s away from now (tolerance ${input.toleranceSeconds} s)`,
    );
  let ok = false;
  try {
    ok = Rsa.verify(Formatter.response(ts, nonce, input.body), signature, key);
  } catch {
    ok = false;
  }
  if (!ok) throw new AppError('INVALID_SIGNATURE', 'Wechatpay-Signature does not match');
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'notification body is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new AppError('VALIDATION_FAILED', 'notification body is not a JSON object');
  const n = parsed as {
    id?: unknown;
    event_type?: unknown;
    resource?: { algorithm?: unknown; ciphertext?: unknown; nonce?: unknown; associated_data?: unknown } | null;
  };
  const r = n.resource;
  if (
    typeof n.event_type !== 'string' ||
    !r ||
    r.algorithm !== 'AEAD_AES_256_GCM' ||
    typeof r.ciphertext !== 'string' ||
    typeof r.nonce !== 'string'
  )
    throw new AppError('VALIDATION_FAILED', 'notification has no AEAD_AES_256_GCM resource', { field: 'resource' });
  let plain: string;
  try {
    plain = Aes.AesGcm.decrypt(
      r.ciphertext,
      c.apiV3Key,
      r.nonce,
      typeof r.associated_data === 'string' ? r.associated_data : '',
    );
  } catch {
    throw new AppError(
      'INVALID_SIGNATURE',
      'notification resource does not decrypt with the APIv3 key (tampered or not ours)',
    );
  }
  let resource: unknown;
  try {
    resource = JSON.parse(plain);
  } catch {
    throw new AppError('VALIDATION_FAILED', 'decrypted notification resource is not JSON', { field: 'resource' });
  }
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource))
    throw new AppError('VALIDATION_FAILED', 'decrypted notification resource is not an object', { field: 'resource' });
  return { id: String(n.id ?? ''), eventType: n.event_type, resource: resource as Record<string, unknown> };
}
