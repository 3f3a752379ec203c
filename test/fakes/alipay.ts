import { createSign, createVerify, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type KeyPair, keyDir, rsaPair, writeKey } from './keys.js';

/** China Standard Time as Alipay writes it: 2026-12-05 14:30:00. */
export const cst = (d = new Date()) =>
  new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

/**
 * A local Alipay open-platform gateway (gateway.do) for the methods the service calls, written from
 * Alipay's documentation with node:crypto only:
 * - requests: every parameter except `sign`, sorted by name, `k=v` joined with `&`, RSA2 (SHA256withRSA)
 *   checked with the app's public key; `app_id` must be the app's;
 * - answers: `{"<method>_response":{…},"sign":"…"}` where sign is RSA2 over the exact JSON text of the
 *   response node, with Alipay's private key;
 * - notifications: form-encoded, signed over the sorted parameters without sign and sign_type.
 * The buyer is played by `visit()` (opens a page/wap URL) and `pay()`.
 */
export class FakeAlipay {
  readonly appId = '2021000117600000';
  readonly sellerId = '2088102147948060';
  readonly app: KeyPair = rsaPair();
  readonly alipay: KeyPair = rsaPair();
  readonly trades = new Map<string, AliTrade>();
  readonly refunds = new Map<string, { outTradeNo: string; amount: string; at: string }>();
  readonly requests: Array<{ method: string; biz: Record<string, any>; signed: boolean }> = [];
  /** A business refusal for refunds, e.g. { sub_code: 'ACQ.SELLER_BALANCE_NOT_ENOUGH', sub_msg: '卖家余额不足' }. */
  refuseRefunds?: { sub_code: string; sub_msg: string };
  private server?: Server;
  url = '';

  env(notifyUrl: string, dir = keyDir()): Record<string, string> {
    return {
      QIANFAN_PAYMENT__ALIPAY__APP_ID: this.appId,
      QIANFAN_PAYMENT__ALIPAY__PRIVATE_KEY_FILE: writeKey(dir, 'ali-app.key.pem', this.app.privateKey),
      QIANFAN_PAYMENT__ALIPAY__ALIPAY_PUBLIC_KEY_FILE: writeKey(dir, 'ali-alipay.pub.pem', this.alipay.publicKey),
      QIANFAN_PAYMENT__ALIPAY__ENDPOINT: `${this.url}/gateway.do`,
      QIANFAN_PAYMENT__ALIPAY__NOTIFY_URL: notifyUrl,
    };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((err: Error) => res.writeHead(500).end(err.message));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** Checks a request's (or a signed page URL's) parameters as the gateway does. */
  verifyRequest(params: Record<string, string>): string | undefined {
    if (params.app_id !== this.appId) return `app_id ${params.app_id} is not the app`;
    if (params.sign_type !== 'RSA2') return 'sign_type must be RSA2';
    const content = Object.keys(params)
      .filter((k) => k !== 'sign' && params[k] !== '')
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join('&');
    const ok = createVerify('RSA-SHA256')
      .update(content, 'utf8')
      .verify(this.app.publicKey, params.sign ?? '', 'base64');
    return ok ? undefined : 'isv.invalid-signature';
  }

  /** The buyer opens a page/wap payment URL the service handed out: its signature is checked and the trade made. */
  visit(payUrl: string): AliTrade {
    const u = new URL(payUrl);
    const params = Object.fromEntries(u.searchParams);
    const problem = this.verifyRequest(params);
    if (problem) throw new Error(`fake alipay: page URL refused: ${problem}`);
    const biz = JSON.parse(params.biz_content ?? '{}');
    return this.open(biz, params.notify_url ?? '');
  }

  private open(biz: Record<string, any>, notifyUrl: string): AliTrade {
    const existing = this.trades.get(biz.out_trade_no);
    if (existing) return existing;
    const t: AliTrade = {
      outTradeNo: biz.out_trade_no,
      totalAmount: biz.total_amount,
      status: 'WAIT_BUYER_PAY',
      notifyUrl,
      tradeNo: `2026${Date.now()}${Math.floor(Math.random() * 1e6)}`,
    };
    this.trades.set(t.outTradeNo, t);
    return t;
  }

  /** The buyer pays: TRADE_SUCCESS and (unless notify is false) the asynchronous notification. */
  async pay(outTradeNo: string, opts: { notify?: boolean } = {}): Promise<Response | undefined> {
    const t = this.trades.get(outTradeNo);
    if (!t) throw new Error(`fake alipay: no trade ${outTradeNo}`);
    if (t.status !== 'WAIT_BUYER_PAY') throw new Error(`fake alipay: trade is ${t.status}`);
    t.status = 'TRADE_SUCCESS';
    t.paidAt = cst();
    if (opts.notify === false) return undefined;
    return this.deliver(t.notifyUrl, this.notification(t));
  }

  /** A trade notification's parameters, signed (overrides for hostile tests are applied before signing). */
  notification(t: AliTrade, over: Record<string, string> = {}, o: { signWith?: string } = {}): Record<string, string> {
    const params: Record<string, string> = {
      notify_time: cst(),
      notify_type: 'trade_status_sync',
      notify_id: randomUUID().replaceAll('-', ''),
      app_id: this.appId,
      charset: 'utf-8',
      version: '1.0',
      sign_type: 'RSA2',
      trade_no: t.tradeNo,
      out_trade_no: t.outTradeNo,
      seller_id: this.sellerId,
      trade_status: t.status,
      total_amount: t.totalAmount,
      receipt_amount: t.totalAmount,
      buyer_pay_amount: t.totalAmount,
      gmt_create: t.paidAt ?? cst(),
      gmt_payment: t.paidAt ?? cst(),
      subject: 'order',
      ...over,
    };
    return this.signNotification(params, o.signWith);
  }

  signNotification(params: Record<string, string>, signWith = this.alipay.privateKey): Record<string, string> {
    const content = Object.keys(params)
      .filter((k) => k !== 'sign' && k !== 'sign_type' && params[k] !== '')
      .sort()
      .map((k) => `${k}=${params[k]}`)
      .join('&');
    return { ...params, sign: createSign('RSA-SHA256').update(content, 'utf8').sign(signWith, 'base64') };
  }

  async deliver(url: string, params: Record<string, string>): Promise<Response> {
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams(params).toString(),
    });
  }

  private reply(res: ServerResponse, method: string, node: Record<string, unknown>) {
    const json = JSON.stringify(node);
    const sign = createSign('RSA-SHA256').update(json, 'utf8').sign(this.alipay.privateKey, 'base64');
    const body = `{"${method.replaceAll('.', '_')}_response":${json},"sign":"${sign}"}`;
    res.writeHead(200, { 'content-type': 'text/html;charset=utf-8', trace_id: randomUUID() }).end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const params: Record<string, string> = { ...Object.fromEntries(url.searchParams), ...Object.fromEntries(form) };
    const method = params.method ?? '';
    const problem = this.verifyRequest(params);
    const biz = JSON.parse(params.biz_content ?? '{}') as Record<string, any>;
    this.requests.push({ method, biz, signed: !problem });
    const fail = (sub_code: string, sub_msg: string, code = '40004', msg = 'Business Failed') =>
      this.reply(res, method, { code, msg, sub_code, sub_msg });
    if (problem) return fail('isv.invalid-signature', problem, '40002', 'Invalid Arguments');
    const t = this.trades.get(biz.out_trade_no);
    switch (method) {
      case 'alipay.trade.precreate': {
        const opened = this.open(biz, params.notify_url ?? '');
        return this.reply(res, method, {
          code: '10000',
          msg: 'Success',
          out_trade_no: opened.outTradeNo,
          qr_code: `https://qr.alipay.com/bax0${opened.tradeNo.slice(-10)}`,
        });
      }
      case 'alipay.trade.query':
        if (!t) return fail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        return this.reply(res, method, {
          code: '10000',
          msg: 'Success',
          trade_no: t.tradeNo,
          out_trade_no: t.outTradeNo,
          trade_status: t.status,
          total_amount: t.totalAmount,
          ...(t.paidAt ? { send_pay_date: t.paidAt } : {}),
        });
      case 'alipay.trade.close':
        if (!t) return fail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        if (t.status !== 'WAIT_BUYER_PAY') return fail('ACQ.TRADE_STATUS_ERROR', '交易状态不合法');
        t.status = 'TRADE_CLOSED';
        return this.reply(res, method, {
          code: '10000',
          msg: 'Success',
          trade_no: t.tradeNo,
          out_trade_no: t.outTradeNo,
        });
      case 'alipay.trade.refund': {
        if (t?.status !== 'TRADE_SUCCESS') return fail('ACQ.TRADE_NOT_EXIST', '交易不存在');
        const same = this.refunds.get(biz.out_request_no);
        if (same)
          return this.reply(res, method, {
            code: '10000',
            msg: 'Success',
            fund_change: 'N',
            refund_fee: same.amount,
            out_trade_no: t.outTradeNo,
            trade_no: t.tradeNo,
          });
        if (this.refuseRefunds) return fail(this.refuseRefunds.sub_code, this.refuseRefunds.sub_msg);
        if (!/^\d+\.\d{2}$/.test(biz.refund_amount ?? '')) return fail('ACQ.INVALID_PARAMETER', 'refund_amount');
        this.refunds.set(biz.out_request_no, { outTradeNo: t.outTradeNo, amount: biz.refund_amount, at: cst() });
        return this.reply(res, method, {
          code: '10000',
          msg: 'Success',
          fund_change: 'Y',
          refund_fee: biz.refund_amount,
          out_trade_no: t.outTradeNo,
          trade_no: t.tradeNo,
          gmt_refund_pay: cst(),
        });
      }
      case 'alipay.trade.fastpay.refund.query': {
        const r = this.refunds.get(biz.out_request_no);
        if (!r) return this.reply(res, method, { code: '10000', msg: 'Success', out_trade_no: biz.out_trade_no });
        return this.reply(res, method, {
          code: '10000',
          msg: 'Success',
          out_trade_no: r.outTradeNo,
          out_request_no: biz.out_request_no,
          refund_amount: r.amount,
          refund_status: 'REFUND_SUCCESS',
          gmt_refund_pay: r.at,
        });
      }
      default:
        return fail('isv.invalid-method', `${method} is not part of this fake`, '40002', 'Invalid Arguments');
    }
  }
}

export interface AliTrade {
  outTradeNo: string;
  totalAmount: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED';
  notifyUrl: string;
  tradeNo: string;
  paidAt?: string;
}
