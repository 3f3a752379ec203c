import { createCipheriv, createSign, createVerify, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KeyPair, keyDir, rsaPair, writeKey } from './keys.js';

/**
 * A local WeChat Pay APIv3 that speaks the parts of the protocol the service uses, written from WeChat
 * Pay's documentation with node:crypto only (not with the SDK the service uses):
 * - every request must carry `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,serial_no=…,timestamp=…,
 *   nonce_str=…,signature=…`, signed with the merchant key over `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`;
 * - every answer is signed with the platform key over `TIMESTAMP\nNONCE\nBODY\n` (Wechatpay-* headers),
 *   in public-key mode (Wechatpay-Serial is the PUB_KEY_ID);
 * - notifications are JSON with the resource encrypted AEAD_AES_256_GCM with the APIv3 key, signed the same way.
 * The payer is played by `pay()`; refunds wait for `settleRefund()` (or settle at once with autoSettleRefunds).
 */
export class FakeWechatPay {
  readonly mchId = '1900000109';
  readonly appId = 'wxd678efh567hg6787';
  readonly merchantSerialNo = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
  readonly apiV3Key = randomBytes(16).toString('hex'); // 32 ASCII bytes
  readonly platformPublicKeyId = `PUB_KEY_ID_${randomBytes(12).toString('hex').toUpperCase()}`;
  readonly merchant: KeyPair = rsaPair();
  readonly platform: KeyPair = rsaPair();
  readonly trades = new Map<string, Trade>();
  readonly refunds = new Map<string, Refund>();
  /** Requests seen, for assertions: method, path, and whether the signature checked out. */
  readonly requests: Array<{ method: string; path: string; body: Record<string, any>; signed: boolean }> = [];
  /** The error WeChat Pay answers refunds with, e.g. { status: 403, code: 'NOT_ENOUGH' }. */
  refuseRefunds?: { status: number; code: string; message: string };
  autoSettleRefunds = false;
  /** Milliseconds every answer waits (a slow provider). */
  delayMs = 0;
  private server?: Server;
  url = '';

  /** Files and env for the service's payment.wechatpay config (public-key mode). */
  env(notifyUrl: string, dir = keyDir()): Record<string, string> {
    return {
      QIANFAN_PAYMENT__WECHATPAY__MCH_ID: this.mchId,
      QIANFAN_PAYMENT__WECHATPAY__APP_ID: this.appId,
      QIANFAN_PAYMENT__WECHATPAY__API_V3_KEY: this.apiV3Key,
      QIANFAN_PAYMENT__WECHATPAY__MERCHANT_SERIAL_NO: this.merchantSerialNo,
      QIANFAN_PAYMENT__WECHATPAY__MERCHANT_PRIVATE_KEY_FILE: writeKey(
        dir,
        'wx-merchant.key.pem',
        this.merchant.privateKey,
      ),
      QIANFAN_PAYMENT__WECHATPAY__PLATFORM_PUBLIC_KEY_ID: this.platformPublicKeyId,
      QIANFAN_PAYMENT__WECHATPAY__PLATFORM_PUBLIC_KEY_FILE: writeKey(
        dir,
        'wx-platform.pub.pem',
        this.platform.publicKey,
      ),
      QIANFAN_PAYMENT__WECHATPAY__ENDPOINT: `${this.url}/`,
      QIANFAN_PAYMENT__WECHATPAY__NOTIFY_URL: notifyUrl,
    };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: Error) =>
        this.answer(res, 500, { code: 'SYSTEM_ERROR', message: err.message }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** The payer pays the trade: SUCCESS, and (unless `notify: false`, a lost notification) its notification. */
  async pay(outTradeNo: string, opts: { notify?: boolean; amount?: number } = {}): Promise<Response | undefined> {
    const t = this.trades.get(outTradeNo);
    if (!t) throw new Error(`fake wechatpay: no trade ${outTradeNo}`);
    if (t.state !== 'NOTPAY') throw new Error(`fake wechatpay: trade ${outTradeNo} is ${t.state}`);
    t.state = 'SUCCESS';
    t.transactionId = `4200${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    t.successTime = new Date().toISOString().replace(/\.\d+Z$/, '+00:00');
    if (opts.notify === false) return undefined;
    return this.deliver(t.notifyUrl, this.notification('TRANSACTION.SUCCESS', this.transaction(t, opts.amount)));
  }

  /** The refund finishes at WeChat Pay (SUCCESS, or ABNORMAL / CLOSED) and its notification is sent. */
  async settleRefund(outRefundNo: string, status: 'SUCCESS' | 'ABNORMAL' | 'CLOSED' = 'SUCCESS') {
    const r = this.refunds.get(outRefundNo);
    if (!r) throw new Error(`fake wechatpay: no refund ${outRefundNo}`);
    r.status = status;
    if (status === 'SUCCESS') r.successTime = new Date().toISOString().replace(/\.\d+Z$/, '+00:00');
    return this.deliver(r.notifyUrl, this.notification(`REFUND.${status}`, this.refundResource(r)));
  }

  /** The transaction resource of a TRANSACTION.SUCCESS notification (amount overridable for hostile tests). */
  transaction(t: Trade, amount = t.total): Record<string, unknown> {
    return {
      mchid: this.mchId,
      appid: this.appId,
      out_trade_no: t.outTradeNo,
      transaction_id: t.transactionId,
      trade_type: t.tradeType,
      trade_state: t.state,
      trade_state_desc: t.state === 'SUCCESS' ? '支付成功' : '',
      bank_type: 'OTHERS',
      attach: t.attach,
      success_time: t.successTime,
      payer: { openid: t.openid ?? 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      amount: { total: amount, payer_total: amount, currency: 'CNY', payer_currency: 'CNY' },
    };
  }

  refundResource(r: Refund): Record<string, unknown> {
    return {
      mchid: this.mchId,
      out_trade_no: r.outTradeNo,
      transaction_id: r.transactionId,
      out_refund_no: r.outRefundNo,
      refund_id: r.refundId,
      refund_status: r.status,
      success_time: r.successTime,
      user_received_account: '支付用户零钱',
      amount: { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund },
    };
  }

  /** A notification as WeChat Pay sends it: the resource encrypted with the APIv3 key, the whole signed. */
  notification(
    eventType: string,
    resource: Record<string, unknown>,
    o: { key?: string; timestamp?: number; serial?: string; signWith?: string; tamper?: boolean } = {},
  ): { headers: Record<string, string>; body: string } {
    const nonce = randomBytes(6).toString('base64url').slice(0, 12);
    const aad = eventType.startsWith('REFUND') ? 'refund' : 'transaction';
    const cipher = createCipheriv('aes-256-gcm', Buffer.from(o.key ?? this.apiV3Key), nonce);
    cipher.setAAD(Buffer.from(aad));
    const sealed = Buffer.concat([
      cipher.update(JSON.stringify(resource), 'utf8'),
      cipher.final(),
      cipher.getAuthTag(),
    ]);
    if (o.tamper) sealed[5] = (sealed[5] ?? 0) ^ 0xff;
    const body = JSON.stringify({
      id: randomUUID(),
      create_time: new Date().toISOString(),
      resource_type: 'encrypt-resource',
      event_type: eventType,
      summary: eventType.startsWith('REFUND') ? '退款成功' : '支付成功',
      resource: {
        original_type: aad,
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: sealed.toString('base64'),
        associated_data: aad,
        nonce,
      },
    });
    return { headers: this.signedHeaders(body, o), body };
  }

  signedHeaders(body: string, o: { timestamp?: number; serial?: string; signWith?: string } = {}) {
    const ts = String(o.timestamp ?? Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString('hex');
    const signature = createSign('RSA-SHA256')
      .update(`${ts}\n${nonce}\n${body}\n`)
      .sign(o.signWith ?? this.platform.privateKey, 'base64');
    return {
      'content-type': 'application/json',
      'wechatpay-timestamp': ts,
      'wechatpay-nonce': nonce,
      'wechatpay-serial': o.serial ?? this.platformPublicKeyId,
      'wechatpay-signature': signature,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    };
  }

  async deliver(url: string, n: { headers: Record<string, string>; body: string }): Promise<Response> {
    return fetch(url, { method: 'POST', headers: n.headers, body: n.body });
  }

  private checkAuthorization(req: IncomingMessage, body: string): string | undefined {
    const auth = req.headers.authorization ?? '';
    const m = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(auth);
    if (!m) return 'Authorization is not WECHATPAY2-SHA256-RSA2048';
    const f = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (f.mchid !== this.mchId) return `mchid ${f.mchid} is not the merchant`;
    if (f.serial_no !== this.merchantSerialNo) return `serial_no ${f.serial_no} is not the merchant certificate`;
    if (Math.abs(Date.now() / 1000 - Number(f.timestamp)) > 300) return 'timestamp outside 5 minutes';
    const message = `${req.method}\n${req.url}\n${f.timestamp}\n${f.nonce_str}\n${body}\n`;
    const ok = createVerify('RSA-SHA256')
      .update(message)
      .verify(this.merchant.publicKey, f.signature ?? '', 'base64');
    return ok ? undefined : 'signature does not verify with the merchant public key';
  }

  private answer(res: ServerResponse, status: number, data?: unknown) {
    const body = data === undefined ? '' : JSON.stringify(data);
    const headers: Record<string, string> = { ...this.signedHeaders(body), 'request-id': randomUUID() };
    if (body === '') delete headers['content-type'];
    res.writeHead(status, headers).end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const problem = this.checkAuthorization(req, req.method === 'GET' ? '' : raw);
    const body = raw ? (JSON.parse(raw) as Record<string, any>) : {};
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: url.pathname, body, signed: !problem });
    if (problem) return this.answer(res, 401, { code: 'SIGN_ERROR', message: problem });
    const p = url.pathname;
    const order = /^\/v3\/pay\/transactions\/(native|jsapi|app|h5)$/.exec(p);
    const query = /^\/v3\/pay\/transactions\/out-trade-no\/(\w+)$/.exec(p);
    const close = /^\/v3\/pay\/transactions\/out-trade-no\/(\w+)\/close$/.exec(p);
    const refundQuery = /^\/v3\/refund\/domestic\/refunds\/(\w+)$/.exec(p);
    if (req.method === 'POST' && order) {
      const m = order;
      if (body.appid !== this.appId || body.mchid !== this.mchId)
        return this.answer(res, 400, { code: 'PARAM_ERROR', message: 'appid and mchid do not match' });
      const total = body.amount?.total;
      if (!Number.isInteger(total) || total <= 0)
        return this.answer(res, 400, { code: 'PARAM_ERROR', message: 'amount.total must be a positive integer (fen)' });
      if (m[1] === 'jsapi' && !body.payer?.openid)
        return this.answer(res, 400, { code: 'PARAM_ERROR', message: 'payer.openid is required' });
      const existing = this.trades.get(body.out_trade_no);
      if (existing?.state === 'SUCCESS') return this.answer(res, 400, { code: 'ORDERPAID', message: '该订单已支付' });
      const prepayId = `wx${Date.now()}${randomBytes(6).toString('hex')}`;
      this.trades.set(body.out_trade_no, {
        outTradeNo: body.out_trade_no,
        total,
        state: 'NOTPAY',
        tradeType: m[1]!.toUpperCase(),
        notifyUrl: body.notify_url,
        attach: body.attach,
        openid: body.payer?.openid,
        prepayId,
      });
      if (m[1] === 'native')
        return this.answer(res, 200, { code_url: `weixin://wxpay/bizpayurl?pr=${prepayId.slice(-10)}` });
      if (m[1] === 'h5')
        return this.answer(res, 200, {
          h5_url: `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=${prepayId}`,
        });
      return this.answer(res, 200, { prepay_id: prepayId });
    }
    if (query && req.method === 'GET') {
      const t = this.trades.get(query[1]!);
      if (!t) return this.answer(res, 404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' });
      return this.answer(res, 200, this.transaction(t));
    }
    if (close && req.method === 'POST') {
      const t = this.trades.get(close[1]!);
      if (!t) return this.answer(res, 404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' });
      if (t.state === 'SUCCESS') return this.answer(res, 400, { code: 'ORDERPAID', message: '订单已支付' });
      t.state = 'CLOSED';
      return this.answer(res, 204);
    }
    if (p === '/v3/refund/domestic/refunds' && req.method === 'POST') {
      const t = this.trades.get(body.out_trade_no);
      if (t?.state !== 'SUCCESS') return this.answer(res, 404, { code: 'RESOURCE_NOT_EXISTS', message: '订单不存在' });
      const same = this.refunds.get(body.out_refund_no);
      if (same) return this.answer(res, 200, this.refundAnswer(same));
      if (this.refuseRefunds) return this.answer(res, this.refuseRefunds.status, this.refuseRefunds);
      const refunded = [...this.refunds.values()].filter((r) => r.outTradeNo === t.outTradeNo && r.status !== 'CLOSED');
      const left = t.total - refunded.reduce((s, r) => s + r.refund, 0);
      if (body.amount?.total !== t.total || !(body.amount?.refund > 0) || body.amount.refund > left)
        return this.answer(res, 400, { code: 'INVALID_REQUEST', message: 'refund amount exceeds what is left' });
      const r: Refund = {
        outRefundNo: body.out_refund_no,
        refundId: `50300${Date.now()}${Math.floor(Math.random() * 1e4)}`,
        outTradeNo: t.outTradeNo,
        transactionId: t.transactionId ?? '',
        total: t.total,
        refund: body.amount.refund,
        status: 'PROCESSING',
        notifyUrl: body.notify_url,
      };
      this.refunds.set(r.outRefundNo, r);
      if (this.autoSettleRefunds) setTimeout(() => void this.settleRefund(r.outRefundNo).catch(() => {}), 50);
      return this.answer(res, 200, this.refundAnswer(r));
    }
    if (refundQuery && req.method === 'GET') {
      const r = this.refunds.get(refundQuery[1]!);
      if (!r) return this.answer(res, 404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
      return this.answer(res, 200, this.refundAnswer(r));
    }
    return this.answer(res, 404, { code: 'NOT_FOUND', message: `${req.method} ${p} is not part of this fake` });
  }

  private refundAnswer(r: Refund) {
    return {
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      channel: 'ORIGINAL',
      status: r.status,
      success_time: r.successTime,
      create_time: new Date().toISOString(),
      amount: { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund, currency: 'CNY' },
    };
  }
}

export interface Trade {
  outTradeNo: string;
  total: number;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED';
  tradeType: string;
  notifyUrl: string;
  attach?: string;
  openid?: string;
  prepayId: string;
  transactionId?: string;
  successTime?: string;
}

interface Refund {
  outRefundNo: string;
  refundId: string;
  outTradeNo: string;
  transactionId: string;
  total: number;
  refund: number;
  status: 'PROCESSING' | 'SUCCESS' | 'ABNORMAL' | 'CLOSED';
  successTime?: string;
  notifyUrl: string;
}
