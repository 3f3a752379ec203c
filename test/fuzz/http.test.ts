import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { signDevToken } from '../../internal/auth/index.js';
import { markDelivered, shipOrder } from '../../internal/delivery/index.js';
import { selectSql } from '../../internal/model/index.js';
import { createOrder } from '../../internal/order/index.js';
import { applyPaymentResult, signWebhook, startPayment } from '../../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { buildApp } from '../../restful/app.js';
import { FakeAlipay } from '../fakes/alipay.js';
import { keyDir, rsaPair } from '../fakes/keys.js';
import { FakeWechatPay } from '../fakes/wechatpay.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';
import { address, makeSkus } from '../helpers/orders.js';
import { writeFingerprint } from './fingerprint.js';
import { encodeSegment, hostileJson, hostileNumber, hostileString } from './hostile.js';
import { fromSchema, type Hints, type JsonSchema, mutated } from './schema-arbitrary.js';
import { fuzzSeed } from './seed.js';

/**
 * Requests generated from the served OpenAPI document against the real app (MariaDB, Redis, RocketMQ):
 * every documented operation, valid and broken bodies, hostile path and query values, wrong content
 * types, other users' ids, bad tokens, replayed and stale webhooks. FUZZ_RUNS (default 10,000) and
 * FUZZ_SEED reproduce a run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = fuzzSeed(115_817_269);

interface Operation {
  method: string;
  path: string;
  operationId: string;
  secured: boolean;
  statuses: Set<number>;
  params: Array<{ in: string; name: string; schema: JsonSchema; required?: boolean }>;
  body?: JsonSchema;
}

type Auth = 'buyer' | 'otherBuyer' | 'admin' | 'none' | 'expired' | 'forged' | 'algNone' | 'wrongIssuer' | 'garbage';

interface Request {
  op: Operation;
  auth: Auth;
  garbageAuth: string;
  pathValues: Record<string, string>;
  query: Partial<Record<string, string>>;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string };
  contentType: string | undefined;
  idemKey: string | undefined;
  ifNoneMatch: string | undefined;
  webhook: 'signed' | 'stale' | 'future' | 'badSignature' | 'missing' | 'replay';
  pick: number;
}

describe(`HTTP fuzz: ${RUNS} requests from the OpenAPI document (seed ${SEED})`, () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  const users = { buyer: 0n, otherBuyer: 0n, admin: 0n };
  const tokens = {} as Record<Auth, string>;
  const fx = {
    skus: [] as string[],
    buyerOrders: [] as string[],
    otherOrders: [] as string[],
    payments: [] as string[],
    saleId: '',
    tickets: [] as string[],
    /** Lines of the buyer's delivered order: the after-sale routes' `orderItemId`. */
    items: [] as string[],
    /** That order's parcel: the parcel routes' `shipmentId`. */
    shipments: [] as string[],
  };
  const sent: Array<{ body: string; ts: string; sig: string }> = [];
  const counts = new Map<string, number>();
  // The real providers' notification routes are fuzzed with their own signatures (local fakes' keys).
  const wx = new FakeWechatPay();
  const ali = new FakeAlipay();
  const stranger = rsaPair();
  const providerSent: Array<{ headers: Record<string, string>; body: string }> = [];
  const trades = { wechatpay: '', alipay: '' };

  before(async () => {
    await Promise.all([wx.start(), ali.start()]);
    const dir = keyDir();
    ctx = await createServiceContext(
      testConfig({
        QIANFAN_PAYMENT__PROVIDERS: 'sandbox,wechatpay,alipay',
        ...wx.env('http://127.0.0.1:1/v1/payments/webhooks/wechatpay', dir),
        ...ali.env('http://127.0.0.1:1/v1/payments/webhooks/alipay', dir),
        QIANFAN_REDIS__KEY_PREFIX: 'qf:order:test:fuzz:',
        QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
        QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
      }),
      { process: 'restful', mq: true, logger: testLogger },
    );
    app = await buildApp(ctx);
    const base = BigInt(Date.now()) * 1000n + 500_000n;
    users.buyer = base + 1n;
    users.otherBuyer = base + 2n;
    users.admin = base + 3n;
    const auth = ctx.config.auth;
    tokens.buyer = await signDevToken(auth, { userId: String(users.buyer), roles: ['user'] }, 3600);
    tokens.otherBuyer = await signDevToken(auth, { userId: String(users.otherBuyer), roles: ['user'] }, 3600);
    tokens.admin = await signDevToken(auth, { userId: String(users.admin), roles: ['admin'] }, 3600);
    tokens.expired = await signDevToken(auth, { userId: String(users.buyer), roles: ['admin'] }, -120);
    const claims = { roles: ['admin'] };
    tokens.forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(users.buyer))
      .setIssuer(auth.jwtIssuer)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    tokens.wrongIssuer = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(String(users.buyer))
      .setIssuer('someone-else')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(auth.jwtSecret!));
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    tokens.algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: String(users.buyer), roles: ['admin'], iss: auth.jwtIssuer, exp: 4e9 })}.x`;

    fx.skus = (
      await makeSkus(ctx, [
        { price: 100, available: 1_000_000 },
        { price: 250, available: 1_000_000 },
      ])
    ).map(String);
    const order = async (token: string) => {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
        payload: { items: [{ skuId: fx.skus[0], quantity: 1 }], address },
      });
      assert.equal(r.statusCode, 201, r.body);
      return JSON.parse(r.body).id as string;
    };
    for (let i = 0; i < 4; i++) fx.buyerOrders.push(await order(tokens.buyer));
    for (let i = 0; i < 2; i++) fx.otherOrders.push(await order(tokens.otherBuyer));
    // One delivered order, so the after-sale routes meet an order they can act on.
    {
      const { order: o, items } = await createOrder(ctx, {
        userId: BigInt(users.buyer),
        items: [{ skuId: BigInt(fx.skus[0]!), quantity: 3 }],
        address,
      });
      const { payment } = await startPayment(ctx, { orderId: o.id, userId: o.userId });
      await applyPaymentResult(ctx, {
        paymentId: payment.id,
        status: 'SUCCEEDED',
        amount: payment.amount,
        currency: 'CNY',
        providerTxnId: `fuzz-${payment.id}`,
      });
      await shipOrder(ctx, {
        orderId: o.id,
        carrier: 'SF',
        trackingNo: `SF${o.id}`,
        actor: { type: 'ADMIN', id: 'fuzz' },
      });
      await markDelivered(ctx, { orderId: o.id, actor: { type: 'ADMIN', id: 'fuzz' } });
      fx.buyerOrders.push(String(o.id));
      fx.items.push(...items.map((i) => String(i.id)));
      const parcels = await selectSql<{ id: string }>(ctx.db, 'SELECT id FROM shipments WHERE order_id = ?', [o.id]);
      fx.shipments.push(...parcels.map((p) => String(p.id)));
    }
    const pay = await app.inject({
      method: 'POST',
      url: `/v1/orders/${fx.buyerOrders[0]}/payments`,
      headers: { authorization: `Bearer ${tokens.buyer}`, 'idempotency-key': randomUUID() },
      payload: {},
    });
    assert.equal(pay.statusCode, 201, pay.body);
    fx.payments.push(JSON.parse(pay.body).id);
    for (const provider of ['wechatpay', 'alipay'] as const) {
      const r = await app.inject({
        method: 'POST',
        url: `/v1/orders/${fx.buyerOrders[provider === 'wechatpay' ? 1 : 2]}/payments`,
        headers: { authorization: `Bearer ${tokens.buyer}`, 'idempotency-key': randomUUID() },
        payload: { provider, method: provider === 'wechatpay' ? 'native' : 'precreate' },
      });
      assert.equal(r.statusCode, 201, r.body);
      trades[provider] = JSON.parse(r.body).id;
    }
    const sale = await app.inject({
      method: 'POST',
      url: '/v1/admin/flash-sales',
      headers: { authorization: `Bearer ${tokens.admin}`, 'idempotency-key': randomUUID() },
      payload: {
        skuId: fx.skus[1],
        price: 99,
        stock: 1000,
        perUserLimit: 100,
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
      },
    });
    assert.equal(sale.statusCode, 201, sale.body);
    fx.saleId = JSON.parse(sale.body).id;
    const ticket = await app.inject({
      method: 'POST',
      url: `/v1/flash-sales/${fx.saleId}/purchases`,
      headers: { authorization: `Bearer ${tokens.buyer}`, 'idempotency-key': randomUUID() },
      payload: { address },
    });
    assert.equal(ticket.statusCode, 202, ticket.body);
    fx.tickets.push(JSON.parse(ticket.body).ticketId);
  });

  after(async () => {
    await app?.close();
    await ctx?.close();
    await Promise.all([wx.stop(), ali.stop()]);
  });

  /** A WeChat Pay or Alipay notification: correctly signed (for our trade or the fuzzed body), stale, forged, or replayed. */
  function providerNotification(
    r: Request,
    payload: string | undefined,
  ): { headers: Record<string, string>; body: string } {
    const now = Math.floor(Date.now() / 1000);
    if (r.webhook === 'replay' && providerSent.length > 0) return providerSent[r.pick % providerSent.length]!;
    if (r.op.operationId === 'receiveWechatpayNotification') {
      const t = wx.trades.get(trades.wechatpay)!;
      const n =
        r.pick % 2 === 0
          ? wx.notification(
              'TRANSACTION.SUCCESS',
              wx.transaction({ ...t, state: 'SUCCESS' }, r.pick % 3 === 0 ? 1 : t.total),
            )
          : { body: payload ?? '', headers: wx.signedHeaders(payload ?? '') };
      if (r.webhook === 'stale') return { ...n, headers: wx.signedHeaders(n.body, { timestamp: now - 3600 }) };
      if (r.webhook === 'future') return { ...n, headers: wx.signedHeaders(n.body, { timestamp: now + 3600 }) };
      if (r.webhook === 'badSignature')
        return { ...n, headers: wx.signedHeaders(n.body, { signWith: stranger.privateKey }) };
      if (r.webhook === 'missing') return { body: n.body, headers: { 'content-type': 'application/json' } };
      providerSent.push(n);
      return n;
    }
    const t = ali.trades.get(trades.alipay)!;
    const form = (p: Record<string, string>) => ({
      body: new URLSearchParams(p).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const over: Record<string, string> = r.pick % 3 === 0 ? { total_amount: '0.01' } : {};
    if (r.webhook === 'stale')
      return form(ali.notification({ ...t, status: 'TRADE_SUCCESS' }, { ...over, notify_time: '2020-01-01 00:00:00' }));
    if (r.webhook === 'badSignature')
      return form(ali.notification({ ...t, status: 'TRADE_SUCCESS' }, over, { signWith: stranger.privateKey }));
    if (r.webhook === 'missing' || r.webhook === 'future')
      return { body: payload ?? '', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    const n = form(ali.notification({ ...t, status: 'TRADE_SUCCESS' }, over));
    providerSent.push(n);
    return n;
  }

  async function operations(): Promise<{ ops: Operation[]; doc: any }> {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    const doc = JSON.parse(res.body);
    const ops: Operation[] = [];
    for (const [path, byMethod] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(byMethod)) {
        // A stream stays open until the client leaves: test/order-watch.test.ts covers its refusals.
        if (op.responses?.['200']?.content?.['text/event-stream']) continue;
        ops.push({
          method: method.toUpperCase(),
          path,
          operationId: op.operationId,
          secured: (op.security ?? doc.security ?? []).length > 0,
          statuses: new Set(Object.keys(op.responses).map(Number)),
          params: op.parameters ?? [],
          body: op.requestBody?.content?.['application/json']?.schema,
        });
      }
    }
    return { ops, doc };
  }

  function requestArb(op: Operation, doc: any): fc.Arbitrary<Request> {
    const known = fc.constantFrom(...fx.buyerOrders, ...fx.otherOrders, ...fx.payments, fx.saleId, ...fx.skus);
    const idLike = fc.oneof(
      { weight: 6, arbitrary: known },
      { weight: 2, arbitrary: fc.stringMatching(/^[1-9]\d{0,19}$/) },
      { weight: 2, arbitrary: hostileString },
    );
    const pathArb: Record<string, fc.Arbitrary<string>> = {
      id: idLike,
      ticketId: fc.oneof(
        fc.constantFrom(...fx.tickets),
        fc.constant(`${fx.saleId}-999999`),
        fc.stringMatching(/^\d{1,21}-\d{1,21}$/),
        hostileString,
      ),
      shipmentId: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...fx.shipments) }, idLike),
      outcome: fc.oneof(fc.constantFrom('succeed', 'fail'), hostileString),
      provider: fc.oneof({ weight: 4, arbitrary: fc.constant('sandbox') }, hostileString),
    };
    const hints: Hints = {
      skuId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...fx.skus) }, fc.stringMatching(/^[1-9]\d{0,19}$/)),
      paymentId: fc.oneof(fc.constantFrom(...fx.payments), fc.stringMatching(/^[1-9]\d{0,19}$/)),
      orderId: fc.oneof(fc.constantFrom(...fx.buyerOrders, ...fx.otherOrders), fc.stringMatching(/^[1-9]\d{0,19}$/)),
      orderItemId: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...fx.items) },
        fc.stringMatching(/^[1-9]\d{0,19}$/),
      ),
      amount: fc.oneof(fc.constantFrom(100, 1), hostileNumber),
      occurredAt: fc.oneof(
        { weight: 4, arbitrary: fc.constant(new Date().toISOString()) },
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
      quantity: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 3 }) }, fc.integer({ min: -1, max: 1000 })),
      address: fc.oneof(
        { weight: 3, arbitrary: fc.constant(address) },
        fromSchema({ $ref: '#/components/schemas/Address' }, doc),
      ),
    };
    const valid = op.body ? fromSchema(op.body, doc, hints) : fc.constant(undefined);
    const body: fc.Arbitrary<Request['body']> = op.body
      ? fc.oneof(
          { weight: 3, arbitrary: valid.map((value) => ({ kind: 'json' as const, value })) },
          { weight: 4, arbitrary: mutated(valid).map((value) => ({ kind: 'json' as const, value })) },
          { weight: 1, arbitrary: hostileJson.map((value) => ({ kind: 'json' as const, value })) },
          {
            weight: 1,
            arbitrary: fc
              .oneof(
                fc.constantFrom('{', '{"a":', 'nul', '[1,]', '\u0000', '{"items": [}'),
                fc.string({ maxLength: 60 }),
              )
              .map((text) => ({ kind: 'raw' as const, text })),
          },
          { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
        )
      : fc.oneof(
          { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
          { weight: 1, arbitrary: hostileJson.map((value) => ({ kind: 'json' as const, value })) },
        );
    const query: Record<string, fc.Arbitrary<string>> = {};
    for (const p of op.params.filter((x) => x.in === 'query')) {
      const good = fromSchema(p.schema, doc).map((v) => String(v));
      if (p.name === 'cursor') {
        query[p.name] = fc.oneof({ weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: fc.base64String() });
        continue;
      }
      query[p.name] = fc.oneof(
        { weight: 8, arbitrary: good },
        { weight: 1, arbitrary: hostileString },
        { weight: 1, arbitrary: hostileNumber.map(String) },
      );
    }
    const pathValues: Record<string, fc.Arbitrary<string>> = {};
    for (const p of op.params.filter((x) => x.in === 'path')) pathValues[p.name] = pathArb[p.name] ?? hostileString;
    return fc.record({
      op: fc.constant(op),
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom<Auth>('buyer', 'admin', 'otherBuyer') },
        {
          weight: 3,
          arbitrary: fc.constantFrom<Auth>('none', 'expired', 'forged', 'algNone', 'wrongIssuer', 'garbage'),
        },
      ),
      garbageAuth: fc.oneof(
        fc
          .string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 })
          .map((s) => `Bearer ${s}`),
        fc.constantFrom('Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a.b.c', `bearer ${'a'.repeat(9000)}.b.c`),
      ),
      pathValues: fc.record(pathValues),
      query: fc.record(query, { requiredKeys: [] }).chain((q) =>
        // A made-up cursor is refused; send one in a tenth of the requests only.
        fc.nat(9).map((k) => (k === 0 ? q : { ...q, cursor: undefined })),
      ),
      body,
      contentType: fc.oneof(
        { weight: 8, arbitrary: fc.constant('application/json') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            undefined,
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json; charset=utf-16',
            'application/xml',
            'application/json, text/plain',
          ),
        },
      ),
      idemKey: fc.oneof(
        { weight: 6, arbitrary: fc.uuid() },
        { weight: 1, arbitrary: fc.constantFrom(undefined, 'fuzz-reused-key-1', 'short', 'x'.repeat(129)) },
        {
          weight: 1,
          arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
        },
      ),
      ifNoneMatch: fc.oneof(
        fc.constant(undefined),
        fc.constantFrom('*', 'W/"1.0"', '"x"'),
        fc.string({ maxLength: 10 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
      ),
      webhook: fc.constantFrom('signed', 'signed', 'stale', 'future', 'badSignature', 'missing', 'replay'),
      pick: fc.nat(),
    });
  }

  function toInject(r: Request) {
    let url = r.op.path;
    for (const [k, v] of Object.entries(r.pathValues)) url = url.replace(`{${k}}`, encodeSegment(v));
    const qs = Object.entries(r.query)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${encodeSegment(v ?? '')}`)
      .join('&');
    if (qs) url += `?${qs}`;
    const headers: Record<string, string> = {};
    if (r.auth === 'garbage') headers.authorization = r.garbageAuth;
    else if (r.auth !== 'none') headers.authorization = `Bearer ${tokens[r.auth]}`;
    if (r.idemKey !== undefined) headers['idempotency-key'] = r.idemKey;
    if (r.ifNoneMatch !== undefined) headers['if-none-match'] = r.ifNoneMatch;
    let payload: string | undefined;
    if (r.body.kind === 'json') payload = JSON.stringify(r.body.value) ?? 'null';
    else if (r.body.kind === 'raw') payload = r.body.text;
    if (payload !== undefined && r.contentType) headers['content-type'] = r.contentType;
    if (r.op.operationId === 'receiveWechatpayNotification' || r.op.operationId === 'receiveAlipayNotification') {
      delete headers.authorization;
      // Now and then the fuzzed body and content type as they are; otherwise a provider-shaped request.
      if (r.pick % 5 !== 4) {
        const n = providerNotification(r, payload);
        payload = n.body;
        for (const k of Object.keys(headers)) delete headers[k];
        Object.assign(headers, n.headers);
      }
    }
    if (r.op.operationId === 'receivePaymentWebhook') {
      delete headers.authorization;
      const body = payload ?? '';
      const now = Math.floor(Date.now() / 1000);
      const sign = (ts: number) => ({ ts: String(ts), sig: signWebhook(ctx.config.payment.webhookSecret!, ts, body) });
      let sig: { ts: string; sig: string } | undefined;
      if (r.webhook === 'signed') sig = sign(now);
      else if (r.webhook === 'stale') sig = sign(now - 3600);
      else if (r.webhook === 'future') sig = sign(now + 3600);
      else if (r.webhook === 'badSignature') sig = { ts: String(now), sig: `sha256=${'0'.repeat(64)}` };
      else if (r.webhook === 'replay' && sent.length > 0) {
        const old = sent[r.pick % sent.length]!;
        payload = old.body;
        sig = old;
        headers['content-type'] = 'application/json';
      }
      if (sig) {
        headers['x-qf-timestamp'] = sig.ts;
        headers['x-qf-signature'] = sig.sig;
        if (r.webhook === 'signed') sent.push({ body, ...sig });
      }
    }
    return { method: r.op.method as 'GET' | 'POST', url, headers, ...(payload !== undefined ? { payload } : {}) };
  }

  it('answers every generated request with a documented status and error body, never a 5xx, and writes nothing when it refuses', async (t) => {
    const { ops, doc } = await operations();
    assert.ok(ops.length >= 19, `expected every operation in the document, got ${ops.length}`);
    const userRoutes = new Set(['getOrder', 'cancelOrder', 'startPayment', 'confirmReceipt', 'requestRefund']);
    const arb = fc.constantFrom(...ops).chain((op) => requestArb(op, doc));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, async (r) => {
        const req = toInject(r);
        const before = await writeFingerprint(ctx, fx.saleId);
        const res = await app.inject(req);
        n++;
        const key = `${r.op.operationId} ${res.statusCode}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        const where = `${req.method} ${req.url.slice(0, 200)} ${JSON.stringify(req.headers).slice(0, 300)} ${String(req.payload ?? '').slice(0, 300)} → ${res.statusCode} ${res.body.slice(0, 300)}`;
        if (process.env.FUZZ_DEBUG && r.op.operationId === process.env.FUZZ_DEBUG) console.log(where);
        assert.ok(res.statusCode < 500, `5xx: ${where}`);
        assert.ok(r.op.statuses.has(res.statusCode), `undocumented status for ${r.op.operationId}: ${where}`);
        if (res.statusCode >= 400) {
          assert.match(String(res.headers['content-type']), /^application\/json/, where);
          const e = JSON.parse(res.body);
          assert.match(e.code, /^[A-Z][A-Z0-9_]*$/, `error code: ${where}`);
          assert.equal(typeof e.message, 'string', where);
          assert.ok(e.message.length > 0, where);
          assert.equal(typeof e.requestId, 'string', where);
          const afterwards = await writeFingerprint(ctx, fx.saleId);
          assert.deepEqual(afterwards, before, `a refused request wrote: ${where}`);
        }
        const ok = res.statusCode < 300;
        if (ok && ['none', 'expired', 'forged', 'algNone', 'wrongIssuer', 'garbage'].includes(r.auth) && r.op.secured) {
          assert.fail(`accepted without a valid token (${r.auth}): ${where}`);
        }
        if (ok && r.op.path.startsWith('/v1/admin/') && r.auth !== 'admin')
          assert.fail(`admin route without admin: ${where}`);
        if (ok && userRoutes.has(r.op.operationId) && r.auth === 'buyer' && fx.otherOrders.includes(r.pathValues.id!)) {
          assert.fail(`another user's order: ${where}`);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const health = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(health.statusCode, 200, health.body);
    const mine = await app.inject({
      method: 'GET',
      url: `/v1/orders/${fx.buyerOrders[1]}`,
      headers: { authorization: `Bearer ${tokens.buyer}` },
    });
    assert.equal(mine.statusCode, 200, mine.body);
    const perOp = new Map<string, number>();
    for (const [k, v] of counts) perOp.set(k.split(' ')[0]!, (perOp.get(k.split(' ')[0]!) ?? 0) + v);
    for (const op of ops) assert.ok((perOp.get(op.operationId) ?? 0) > 0, `${op.operationId} never generated`);
    t.diagnostic(`seed ${SEED}: ${n} requests over ${ops.length} operations`);
    t.diagnostic(
      [...counts]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    );
  });
});
