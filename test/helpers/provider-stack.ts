import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { signDevToken } from '../../internal/auth/index.js';
import { deadLetters, orderColumns, orders, payments, refunds } from '../../internal/model/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { FakeAlipay } from '../fakes/alipay.js';
import { keyDir } from '../fakes/keys.js';
import { FakeWechatPay } from '../fakes/wechatpay.js';
import { testConfig } from './config.js';
import { testLogger } from './logger.js';
import { address, makeSkus } from './orders.js';
import { type Proc, startProcess, stopWithin } from './process.js';
import { waitFor } from './wait.js';

/**
 * The real restful and consumer processes with WeChat Pay and Alipay enabled against the local fakes,
 * plus a context of the test's own (same config) to read the database and run the CLI's use cases.
 */
export class ProviderStack {
  readonly wx = new FakeWechatPay();
  readonly ali = new FakeAlipay();
  ctx!: ServiceContext;
  env: Record<string, string> = {};
  procs: Proc[] = [];
  base = '';

  async start(): Promise<this> {
    await Promise.all([this.wx.start(), this.ali.start()]);
    const port = testConfig().http.port;
    this.base = `http://127.0.0.1:${port}`;
    const dir = keyDir();
    this.env = {
      QIANFAN_PAYMENT__PROVIDERS: 'wechatpay,alipay,sandbox',
      ...this.wx.env(`${this.base}/v1/payments/webhooks/wechatpay`, dir),
      ...this.ali.env(`${this.base}/v1/payments/webhooks/alipay`, dir),
    };
    this.ctx = await createServiceContext(testConfig(this.env), { process: 'script', mq: true, logger: testLogger });
    this.procs = [startProcess('restful/main.ts', [], this.env), startProcess('consumer/main.ts', [], this.env)];
    const admin = this.ctx.config.admin;
    for (const [p, readyPort] of [
      [this.procs[0]!, port],
      [this.procs[1]!, admin.consumerPort],
    ] as const) {
      await waitFor(`readyz on ${readyPort}`, 60_000, async () => {
        if (p.child.exitCode !== null) throw new Error(`process exited ${p.child.exitCode}:\n${p.output()}`);
        return (await fetch(`http://127.0.0.1:${readyPort}/readyz`).catch(() => undefined))?.status === 200;
      });
    }
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => stopWithin(p, 10_000)));
    await this.ctx?.close();
    await Promise.all([this.wx.stop(), this.ali.stop()]);
  }

  async token(userId: bigint, roles = ['user']) {
    return `Bearer ${await signDevToken(this.ctx.config.auth, { userId: String(userId), roles }, 600)}`;
  }

  async call(method: string, path: string, auth: string, body?: unknown) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: auth,
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, text };
  }

  /** A fresh buyer's order of one unit at `price` fen, and the buyer's token. */
  async order(price: number) {
    const userId = BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000));
    const auth = await this.token(userId);
    const [sku] = await makeSkus(this.ctx, [{ price, available: 5 }]);
    const r = await this.call('POST', '/v1/orders', auth, { items: [{ skuId: String(sku), quantity: 1 }], address });
    if (r.status !== 201) throw new Error(`create order: ${r.status} ${r.text}`);
    return { id: String(r.body.id), auth, userId };
  }

  async orderStatus(id: string) {
    const [o] = await this.ctx.db
      .select(orderColumns)
      .from(orders)
      .where(eq(orders.id, BigInt(id)));
    return o?.status;
  }

  waitOrder(id: string, status: string, ms = 60_000) {
    return waitFor(`order ${id} ${status}`, ms, async () => (await this.orderStatus(id)) === status);
  }

  async payment(id: string) {
    const [p] = await this.ctx.db
      .select()
      .from(payments)
      .where(eq(payments.id, BigInt(id)));
    return p!;
  }

  async refundsOf(orderId: string) {
    return this.ctx.db
      .select()
      .from(refunds)
      .where(eq(refunds.orderId, BigInt(orderId)));
  }

  /** Dead letters the payment consumer parked for this order, with the error code. */
  async parked(orderId: string, code: string) {
    return this.ctx.db
      .select()
      .from(deadLetters)
      .where(and(eq(deadLetters.messageKey, orderId), eq(deadLetters.errorCode, code)));
  }

  /** `qianfan-order <args>` as a real process with this stack's config; resolves with exit code and output. */
  async cli(args: string[]) {
    const p = startProcess('script/main.ts', args, this.env);
    const { code } = await p.exited;
    return { code, output: p.output() };
  }
}
