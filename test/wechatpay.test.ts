import assert from 'node:assert/strict';
import { createVerify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ProviderStack } from './helpers/provider-stack.js';
import { waitFor } from './helpers/wait.js';

// WeChat Pay APIv3 end to end: the real restful and consumer processes, the service's SDK client talking
// to a local fake that checks every request signature and signs every answer and notification.
describe('WeChat Pay (real processes, local APIv3 fake)', () => {
  const s = new ProviderStack();
  before(async () => {
    await s.start();
  });
  after(async () => {
    await s.stop();
  });

  const start = async (price: number, body: Record<string, string> = { provider: 'wechatpay', method: 'native' }) => {
    const o = await s.order(price);
    const pay = await s.call('POST', `/v1/orders/${o.id}/payments`, o.auth, body);
    return { ...o, pay };
  };
  const notify = (outTradeNo: string, amount?: number, opts = {}) => {
    const t = s.wx.trades.get(outTradeNo)!;
    t.state = 'SUCCESS';
    t.transactionId ??= `4200${Date.now()}`;
    t.successTime ??= new Date().toISOString();
    return s.wx.notification('TRANSACTION.SUCCESS', s.wx.transaction(t, amount), opts);
  };
  const webhook = `/v1/payments/webhooks/wechatpay`;
  const post = async (n: { headers: Record<string, string>; body: string }) => {
    const r = await fetch(`${s.base}${webhook}`, { method: 'POST', headers: n.headers, body: n.body });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as { code: string; message: string }) : undefined };
  };

  it('native: the signed order carries the order total in fen; the notification makes it PAID, then it ships', async () => {
    const { id, pay } = await start(1234);
    assert.equal(pay.status, 201, pay.text);
    assert.equal(pay.body.provider, 'wechatpay');
    assert.match(pay.body.client.codeUrl, /^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    const req = s.wx.requests.find(
      (r) => r.path === '/v3/pay/transactions/native' && r.body.out_trade_no === pay.body.id,
    )!;
    assert.equal(req.signed, true, 'the fake checked the merchant signature');
    assert.deepEqual(req.body.amount, { total: 1234, currency: 'CNY' });
    assert.equal(req.body.notify_url, `${s.base}${webhook}`);
    const answer = await s.wx.pay(pay.body.id);
    assert.equal(answer?.status, 204, 'WeChat Pay is answered 2xx with no body');
    await s.waitOrder(id, 'PAID');
    const p = await s.payment(pay.body.id);
    assert.equal(p.status, 'SUCCEEDED');
    assert.equal(p.providerTxnId, s.wx.trades.get(pay.body.id)!.transactionId);
    const admin = await s.token(1n, ['admin']);
    const ship = await s.call('POST', `/v1/admin/orders/${id}/ship`, admin, {
      carrier: 'SF',
      trackingNo: `SF${Date.now()}`,
    });
    assert.equal(ship.status, 200, ship.text);
    assert.equal(await s.orderStatus(id), 'SHIPPED');
  });

  it('jsapi and app: prepay parameters signed for the client with the merchant key; jsapi needs the openid', async () => {
    const { pay } = await start(500, {
      provider: 'wechatpay',
      method: 'jsapi',
      openId: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    });
    assert.equal(pay.status, 201, pay.text);
    const c = pay.body.client as Record<string, string>;
    assert.match(c.package!, /^prepay_id=wx/);
    const signed = `${c.appId}\n${c.timeStamp}\n${c.nonceStr}\n${c.package}\n`;
    assert.ok(createVerify('RSA-SHA256').update(signed).verify(s.wx.merchant.publicKey, c.paySign!, 'base64'));
    const app = await start(500, { provider: 'wechatpay', method: 'app' });
    assert.equal(app.pay.status, 201, app.pay.text);
    const a = app.pay.body.client as Record<string, string>;
    assert.equal(a.partnerid, s.wx.mchId);
    const appSigned = `${a.appid}\n${a.timestamp}\n${a.noncestr}\n${a.prepayid}\n`;
    assert.ok(createVerify('RSA-SHA256').update(appSigned).verify(s.wx.merchant.publicKey, a.sign!, 'base64'));
    const noOpenId = await start(500, { provider: 'wechatpay', method: 'jsapi' });
    assert.equal(noOpenId.pay.status, 400);
    assert.equal(noOpenId.pay.body.code, 'VALIDATION_FAILED');
    const badMethod = await start(500, { provider: 'wechatpay', method: 'page' });
    assert.equal(badMethod.pay.status, 400);
    assert.match(badMethod.pay.body.message, /native, jsapi, app, h5/);
  });

  it('a cancelled order closes its open transaction at WeChat Pay, so it cannot be paid afterwards', async () => {
    const { id, auth, pay } = await start(800);
    assert.equal(pay.status, 201, pay.text);
    const cancel = await s.call('POST', `/v1/orders/${id}/cancel`, auth);
    assert.equal(cancel.status, 200, cancel.text);
    await waitFor('the trade CLOSED at the fake', 60_000, () => s.wx.trades.get(pay.body.id)?.state === 'CLOSED');
    await waitFor('the payment EXPIRED', 10_000, async () => (await s.payment(pay.body.id)).status === 'EXPIRED');
    await assert.rejects(s.wx.pay(pay.body.id), /is CLOSED/);
  });

  it('refund: sent to WeChat Pay by our refund id; its REFUND.SUCCESS notification makes the order REFUNDED', async () => {
    const { id, auth, pay } = await start(2100);
    await s.wx.pay(pay.body.id);
    await s.waitOrder(id, 'PAID');
    const r = await s.call('POST', `/v1/orders/${id}/refunds`, auth, { reason: 'changed my mind' });
    assert.equal(r.status, 200, r.text);
    const [refund] = await s.refundsOf(id);
    await waitFor('the refund at the fake', 10_000, () => s.wx.refunds.has(String(refund!.id)));
    const sent = s.wx.requests.find(
      (x) => x.path === '/v3/refund/domestic/refunds' && x.body.out_refund_no === String(refund!.id),
    )!;
    assert.deepEqual(sent.body.amount, { refund: 2100, total: 2100, currency: 'CNY' });
    assert.equal(await s.orderStatus(id), 'REFUNDING');
    const answer = await s.wx.settleRefund(String(refund!.id));
    assert.equal(answer.status, 204);
    await s.waitOrder(id, 'REFUNDED');
  });

  it('WeChat Pay refusing the refund (NOT_ENOUGH) leaves the order REFUND_FAILED for an operator', async () => {
    const { id, auth, pay } = await start(2200);
    await s.wx.pay(pay.body.id);
    await s.waitOrder(id, 'PAID');
    s.wx.refuseRefunds = { status: 403, code: 'NOT_ENOUGH', message: '基本账户余额不足，请充值后重新发起' };
    try {
      const r = await s.call('POST', `/v1/orders/${id}/refunds`, auth, { reason: 'broken' });
      assert.equal(r.status, 200, r.text);
      await s.waitOrder(id, 'REFUND_FAILED');
      const [refund] = await s.refundsOf(id);
      assert.equal(refund!.status, 'FAILED');
    } finally {
      s.wx.refuseRefunds = undefined;
    }
  });

  it('a lost notification is found by reconciliation (the CLI asks WeChat Pay by out_trade_no)', async () => {
    const { id, pay } = await start(900);
    await s.wx.pay(pay.body.id, { notify: false });
    assert.equal(await s.orderStatus(id), 'PENDING_PAYMENT');
    const r = await s.cli(['reconcile', 'payments', '--pending-after', '0', '--json']);
    assert.equal(r.code, 0, r.output);
    await s.waitOrder(id, 'PAID');
    assert.ok(
      s.wx.requests.some((x) => x.method === 'GET' && x.path === `/v3/pay/transactions/out-trade-no/${pay.body.id}`),
    );
  });

  it('hostile notifications are refused with a stable code and nothing is applied', async () => {
    const { id, pay } = await start(1500);
    const outTradeNo = pay.body.id as string;
    const other = (await import('./fakes/keys.js')).rsaPair();
    const cases: Array<[string, { headers: Record<string, string>; body: string }, number, string]> = [
      [
        'signed with another key',
        notify(outTradeNo, undefined, { signWith: other.privateKey }),
        401,
        'INVALID_SIGNATURE',
      ],
      ['an unknown serial', notify(outTradeNo, undefined, { serial: 'PUB_KEY_ID_0000' }), 401, 'INVALID_SIGNATURE'],
      [
        'a timestamp 10 minutes old',
        notify(outTradeNo, undefined, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
        401,
        'INVALID_SIGNATURE',
      ],
      ['a tampered ciphertext', notify(outTradeNo, undefined, { tamper: true }), 401, 'INVALID_SIGNATURE'],
      [
        'encrypted with another APIv3 key',
        notify(outTradeNo, undefined, { key: 'x'.repeat(32) }),
        401,
        'INVALID_SIGNATURE',
      ],
    ];
    const t = s.wx.trades.get(outTradeNo)!;
    const otherMerchant = s.wx.notification('TRANSACTION.SUCCESS', { ...s.wx.transaction(t), mchid: '1900000999' });
    cases.push(['for another merchant', otherMerchant, 400, 'WEBHOOK_NOT_OURS']);
    const otherApp = s.wx.notification('TRANSACTION.SUCCESS', { ...s.wx.transaction(t), appid: 'wx0000000000000000' });
    cases.push(['for another app', otherApp, 400, 'WEBHOOK_NOT_OURS']);
    const unknown = s.wx.notification('TRANSACTION.SUCCESS', { ...s.wx.transaction(t), out_trade_no: '123456789' });
    cases.push(['an unknown out_trade_no', unknown, 404, 'PAYMENT_NOT_FOUND']);
    const tampered = notify(outTradeNo);
    cases.push([
      'a body changed after signing',
      { ...tampered, body: tampered.body.replace('"TRANSACTION.SUCCESS"', '"TRANSACTION.SUCCESS" ') },
      401,
      'INVALID_SIGNATURE',
    ]);
    // Correctly signed bodies that are JSON but not a notification object (null once answered 500).
    for (const body of ['null', '[]', '1', '"x"', '{"event_type":"TRANSACTION.SUCCESS","resource":null}']) {
      cases.push([`a signed body ${body}`, { headers: s.wx.signedHeaders(body), body }, 400, 'VALIDATION_FAILED']);
    }
    for (const [what, n, status, code] of cases) {
      const r = await post(n);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body?.code, code, what);
      assert.ok(r.body?.message, `${what}: WeChat Pay gets {code, message}`);
    }
    // A different amount is verified and queued, then parked by the consumer: never applied.
    const wrongAmount = notify(outTradeNo, 1);
    assert.equal((await post(wrongAmount)).status, 204);
    const replay = await post(wrongAmount);
    assert.equal(replay.status, 409);
    assert.equal(replay.body?.code, 'WEBHOOK_REPLAYED');
    await waitFor(
      'the mismatch parked',
      60_000,
      async () => (await s.parked(id, 'PAYMENT_AMOUNT_MISMATCH')).length > 0,
    );
    assert.equal(await s.orderStatus(id), 'PENDING_PAYMENT');
    assert.equal((await s.payment(outTradeNo)).status, 'PENDING');
  });
});
