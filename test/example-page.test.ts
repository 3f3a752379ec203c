import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { signDevToken } from '../internal/auth/index.js';
import { markDelivered, shipOrder } from '../internal/delivery/index.js';
import type { ConsumerLoop } from '../internal/mq/index.js';
import { createOrder } from '../internal/order/index.js';
import { sandboxWebhook, startPayment } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { startPaymentConsumer } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { startNginx } from './helpers/nginx.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

const RESTFUL = 18951;
const NGINX = 18952;
const site = `http://127.0.0.1:${NGINX}`;
const CHROMIUM = '/usr/bin/chromium';
const pageDir = fileURLToPath(new URL('../examples/order-status/', import.meta.url));

// examples/order-status/index.html in headless Chromium, served by the deploy's nginx config in front of a
// real restful process: the page shows each change as it is committed, keeps one stream open through
// nginx while nothing happens (heartbeats), and resumes without a gap when restful restarts.
describe('the live order page (examples/order-status) in headless Chromium behind nginx', () => {
  let ctx: ServiceContext;
  let restful: Proc | undefined;
  let payments: ConsumerLoop;
  let nginx: { stop(): void } | undefined;
  let browser: Browser | undefined;
  const startRestful = async () => {
    const p = startProcess('restful/main.ts', [], {
      QIANFAN_SERVICE__INSTANCE: '33',
      QIANFAN_HTTP__PORT: String(RESTFUL),
      QIANFAN_ADMIN__RESTFUL_PORT: String(RESTFUL + 1000),
    });
    restful = p;
    await waitFor('restful ready', 30_000, async () => {
      if (p.child.exitCode !== null) throw new Error(`restful exited:\n${p.output()}`);
      return (await fetch(`http://127.0.0.1:${RESTFUL}/readyz`).catch(() => undefined))?.ok;
    });
  };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), 'Chromium is missing: bash deploy/local/tools.sh installs it');
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
    payments = await startPaymentConsumer(ctx);
    await startRestful();
    // The page from the API's own origin, as an app's web server or this nginx would serve it.
    nginx = await startNginx([RESTFUL, RESTFUL], NGINX, `    location /example/ { alias ${pageDir}; }`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  });
  after(async () => {
    await browser?.close();
    nginx?.stop();
    if (restful && restful.child.exitCode === null) await stopWithin(restful, 10_000);
    await payments?.stop();
    await ctx?.close();
  });

  const text = async (page: Page, sel: string) => (await page.locator(sel).textContent()) ?? '';
  const data = async (page: Page, sel: string, key: string) =>
    (await page.locator(sel).getAttribute(`data-${key}`)) ?? '';

  it('shows PAID within a second of the webhook, then each change, through nginx and a restful restart', async () => {
    const buyer = BigInt(Date.now()) * 1000n + 630_000n;
    const [sku] = await makeSkus(ctx, [{ price: 2990, available: 10 }]);
    const { order } = await createOrder(ctx, { userId: buyer, items: [{ skuId: sku!, quantity: 1 }], address });
    const token = await signDevToken(ctx.config.auth, { userId: String(buyer), roles: ['user'] }, 3600);

    const page = await browser!.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${site}/example/index.html`);
    await page.fill('#order', String(order.id));
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await waitFor(
      'PENDING_PAYMENT on the page',
      10_000,
      async () => (await text(page, '#status')) === 'PENDING_PAYMENT',
    );
    await waitFor('the stream open', 10_000, async () => (await data(page, '#connection', 'connections')) === '1');

    // The buyer pays; the provider's signed notification reaches the webhook through nginx.
    const { payment } = await startPayment(ctx, { orderId: order.id, userId: buyer });
    const hook = sandboxWebhook(ctx.config.payment.webhookSecret, {
      type: 'payment.succeeded',
      paymentId: String(payment.id),
      orderId: String(order.id),
      providerTxnId: `page-${payment.id}`,
      amount: payment.amount,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    } as never);
    const sent = Date.now();
    const res = await fetch(`${site}/v1/payments/webhooks/sandbox`, {
      method: 'POST',
      headers: hook.headers,
      body: hook.body,
    });
    assert.equal(res.status, 202, await res.text());
    await waitFor('PAID on the page', 5000, async () => (await text(page, '#status')) === 'PAID', 20);
    const lag = Date.now() - sent;
    assert.ok(lag < 1000, `PAID showed ${lag} ms after the webhook`);
    await waitFor('the payment listed', 5000, async () =>
      (await text(page, '#payments')).includes('29.90 CNY: SUCCEEDED'),
    );

    await shipOrder(ctx, {
      orderId: order.id,
      carrier: 'SF',
      trackingNo: `PAGE${order.id}`,
      actor: { type: 'ADMIN', id: '7' },
    });
    await waitFor('SHIPPED with its parcel', 5000, async () =>
      (await text(page, '#shipments')).includes(`SF PAGE${order.id}: SHIPPED`),
    );
    assert.equal(await text(page, '#status'), 'SHIPPED');

    // Nothing happens for longer than nginx's API read timeout (10 s): heartbeats keep the one stream.
    await sleep(17_000);
    assert.equal(await data(page, '#connection', 'connections'), '1', 'the stream was cut while idle');
    assert.ok(Number(await data(page, '#connection', 'heartbeats')) >= 1, 'no heartbeat reached the page');

    // restful restarts (a deploy): the stream ends, the page reconnects with Last-Event-ID.
    await stopWithin(restful!, 10_000);
    await startRestful();
    await markDelivered(ctx, { orderId: order.id, actor: { type: 'SYSTEM', id: 'carrier' } });
    await waitFor('DELIVERED after the restart', 20_000, async () => (await text(page, '#status')) === 'DELIVERED', 50);
    assert.equal(await data(page, '#connection', 'connections'), '2');
    await waitFor('the history complete', 5000, async () => (await page.locator('#timeline tr').count()) === 4);
    const versions = await page.locator('#timeline tr td:first-child').allTextContents();
    assert.deepEqual(
      versions.map(Number),
      [0, 1, 2, 3].map((v) => order.version + v),
    );
    assert.equal(await data(page, '#status', 'version'), String(order.version + 3));
    assert.deepEqual(errors, []);
    await page.close();
  });
});
