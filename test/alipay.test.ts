import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cst } from './fakes/alipay.js';
import { rsaPair } from './fakes/keys.js';
import { ProviderStack } from './helpers/provider-stack.js';
import { waitFor } from './helpers/wait.js';

// Alipay end to end: the real restful and consumer processes, the service's alipay-sdk client talking
// to a local gateway that checks every request's RSA2 signature and signs every answer and notification.
describe('Alipay (real processes, local gateway fake)', () => {
  const s = new ProviderStack();
  before(async () => {
    await s.start();
  });
  after(async () => {
    await s.stop();
  });

  const start = async (price: number, method = 'precreate') => {
    const o = await s.order(price);
    const pay = await s.call('POST', `/v1/orders/${o.id}/payments`, o.auth, { provider: 'alipay', method });
    return { ...o, pay };
  };
  const post = async (params: Record<string, string>) => {
    const r = await s.ali.deliver(`${s.base}/v1/payments/webhooks/alipay`, params);
    const text = await r.text();
    return { status: r.status, text, code: r.status === 200 ? undefined : (JSON.parse(text) as { code: string }).code };
  };

  it('page: a signed URL with the total in yuan; the notification is answered "success" and makes it PAID, then it ships', async () => {
    const { id, pay } = await start(12_345, 'page');
    assert.equal(pay.status, 201, pay.text);
    const url = new URL(pay.body.client.payUrl);
    assert.equal(url.searchParams.get('method'), 'alipay.trade.page.pay');
    const biz = JSON.parse(url.searchParams.get('biz_content')!);
    assert.equal(biz.total_amount, '123.45', 'fen converted exactly to yuan');
    assert.equal(biz.out_trade_no, pay.body.id);
    s.ali.visit(pay.body.client.payUrl); // the fake checks the URL's signature as Alipay's cashier does
    const answer = await s.ali.pay(pay.body.id);
    assert.equal(answer?.status, 200);
    assert.equal(await answer?.text(), 'success');
    await s.waitOrder(id, 'PAID');
    assert.equal((await s.payment(pay.body.id)).providerTxnId, s.ali.trades.get(pay.body.id)!.tradeNo);
    const admin = await s.token(1n, ['admin']);
    const ship = await s.call('POST', `/v1/admin/orders/${id}/ship`, admin, {
      carrier: 'YTO',
      trackingNo: `YT${Date.now()}`,
    });
    assert.equal(ship.status, 200, ship.text);
  });

  it('precreate, wap and app: a QR code from the signed gateway call, a wap URL, an app order string', async () => {
    const { pay } = await start(1, 'precreate');
    assert.equal(pay.status, 201, pay.text);
    assert.match(pay.body.client.qrCode, /^https:\/\/qr\.alipay\.com\//);
    const req = s.ali.requests.find(
      (r) => r.method === 'alipay.trade.precreate' && r.biz.out_trade_no === pay.body.id,
    )!;
    assert.equal(req.signed, true);
    assert.equal(req.biz.total_amount, '0.01');
    const wap = await start(990, 'wap');
    assert.equal(new URL(wap.pay.body.client.payUrl).searchParams.get('method'), 'alipay.trade.wap.pay');
    const app = await start(990, 'app');
    const order = new URLSearchParams(app.pay.body.client.orderString);
    assert.equal(order.get('method'), 'alipay.trade.app.pay');
    assert.equal(
      s.ali.verifyRequest(Object.fromEntries(order)),
      undefined,
      'the order string is signed with the app key',
    );
  });

  it('a cancelled order closes its trade at Alipay (alipay.trade.close)', async () => {
    const { id, auth, pay } = await start(700);
    const cancel = await s.call('POST', `/v1/orders/${id}/cancel`, auth);
    assert.equal(cancel.status, 200, cancel.text);
    await waitFor(
      'the trade closed at the fake',
      60_000,
      () => s.ali.trades.get(pay.body.id)?.status === 'TRADE_CLOSED',
    );
    await waitFor('the payment EXPIRED', 10_000, async () => (await s.payment(pay.body.id)).status === 'EXPIRED');
  });

  it('refund: alipay.trade.refund settles at once (fund_change Y) and the order ends REFUNDED', async () => {
    const { id, auth, pay } = await start(5_001);
    await s.ali.pay(pay.body.id);
    await s.waitOrder(id, 'PAID');
    const r = await s.call('POST', `/v1/orders/${id}/refunds`, auth, { reason: 'wrong size' });
    assert.equal(r.status, 200, r.text);
    await s.waitOrder(id, 'REFUNDED');
    const [refund] = await s.refundsOf(id);
    assert.equal(s.ali.refunds.get(String(refund!.id))?.amount, '50.01');
  });

  it('Alipay refusing the refund leaves the order REFUND_FAILED', async () => {
    const { id, auth, pay } = await start(5_002);
    await s.ali.pay(pay.body.id);
    await s.waitOrder(id, 'PAID');
    s.ali.refuseRefunds = { sub_code: 'ACQ.SELLER_BALANCE_NOT_ENOUGH', sub_msg: '卖家余额不足' };
    try {
      const r = await s.call('POST', `/v1/orders/${id}/refunds`, auth, { reason: 'late' });
      assert.equal(r.status, 200, r.text);
      await s.waitOrder(id, 'REFUND_FAILED');
      assert.match(
        (await s.refundsOf(id))[0]!.reason,
        /ACQ.SELLER_BALANCE_NOT_ENOUGH/,
        "the provider's reason is kept",
      );
    } finally {
      s.ali.refuseRefunds = undefined;
    }
  });

  it('a lost notification is found by reconciliation (alipay.trade.query)', async () => {
    const { id, pay } = await start(640);
    await s.ali.pay(pay.body.id, { notify: false });
    const r = await s.cli(['reconcile', 'payments', '--pending-after', '0', '--json']);
    assert.equal(r.code, 0, r.output);
    await s.waitOrder(id, 'PAID');
  });

  it('hostile notifications are refused with a stable code and nothing is applied', async () => {
    const { id, pay } = await start(1_500);
    const t = s.ali.trades.get(pay.body.id)!;
    t.status = 'TRADE_SUCCESS';
    const cases: Array<[string, Record<string, string>, number, string]> = [
      [
        'signed with another key',
        s.ali.notification(t, {}, { signWith: rsaPair().privateKey }),
        401,
        'INVALID_SIGNATURE',
      ],
      ['for another app', s.ali.notification(t, { app_id: '2021000000000000' }), 400, 'WEBHOOK_NOT_OURS'],
      [
        'sent 10 minutes ago',
        s.ali.notification(t, { notify_time: cst(new Date(Date.now() - 600_000)) }),
        401,
        'INVALID_SIGNATURE',
      ],
      ['an unknown out_trade_no', s.ali.notification(t, { out_trade_no: '99999999' }), 404, 'PAYMENT_NOT_FOUND'],
      ['a total changed after signing', { ...s.ali.notification(t), total_amount: '0.01' }, 401, 'INVALID_SIGNATURE'],
      ['no sign', { ...s.ali.notification(t), sign: '' }, 401, 'INVALID_SIGNATURE'],
    ];
    for (const [what, params, status, code] of cases) {
      const r = await post(params);
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.equal(r.code, code, what);
      assert.notEqual(r.text, 'success');
    }
    const wrongAmount = s.ali.notification(t, { total_amount: '0.01' });
    const first = await post(wrongAmount);
    assert.equal(first.text, 'success', 'verified and queued');
    const replay = await post(wrongAmount);
    assert.equal(replay.status, 409);
    assert.equal(replay.code, 'WEBHOOK_REPLAYED');
    await waitFor(
      'the mismatch parked',
      60_000,
      async () => (await s.parked(id, 'PAYMENT_AMOUNT_MISMATCH')).length > 0,
    );
    assert.equal(await s.orderStatus(id), 'PENDING_PAYMENT');
    assert.equal((await s.payment(pay.body.id)).status, 'PENDING');
  });
});
