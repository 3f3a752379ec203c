import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../internal/config/index.js';
import { wechatpayPlatformKeys } from '../internal/payment/wechatpay.js';
import { FakeAlipay } from './fakes/alipay.js';
import { keyDir, rsaPair, selfSignedCertificate } from './fakes/keys.js';
import { FakeWechatPay } from './fakes/wechatpay.js';
import { TEST_CONFIG_FILE, testConfig } from './helpers/config.js';
import { startProcess, stopWithin } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

const dir = keyDir();
const wx = new FakeWechatPay();
const ali = new FakeAlipay();
wx.url = 'https://api.mch.weixin.qq.com';
ali.url = 'https://openapi.alipay.com';
/** Production secrets of its own, and both providers with complete, https config from key files. */
const production = {
  QIANFAN_CONFIG: 'config/production.yaml',
  QIANFAN_PAYMENT__WEBHOOK_SECRET: 'whsec-8f3a1c9e2b7d4f6a0c5e8b1d3f7a9c2e',
  QIANFAN_AUTH__JWT_SECRET: 'jwt-2d9f7b3e1a6c8d0f4b2e9a7c5d3f1b8e',
  QIANFAN_GRPC__SERVICE_TOKENS: 'checkout:svc-points-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e',
  QIANFAN_MYSQL__PASSWORD: 'a-database-password',
  QIANFAN_HTTP__TRUST_PROXY: '10.0.0.0/8',
  QIANFAN_PAYMENT__PROVIDERS: 'wechatpay,alipay',
  ...wx.env('https://order.example.com/v1/payments/webhooks/wechatpay', dir),
  ...ali.env('https://order.example.com/v1/payments/webhooks/alipay', dir),
  QIANFAN_PAYMENT__ALIPAY__ENDPOINT: 'https://openapi.alipay.com/gateway.do',
};
const refused = (env: Record<string, string>, key: string, why: RegExp) =>
  assert.throws(
    () => loadConfig({ ...production, ...env }),
    (err: unknown) => err instanceof ConfigError && err.message.includes(key) && why.test(err.message),
    `${key} ${JSON.stringify(env)}`,
  );

describe('payment provider config', () => {
  it('production with wechatpay and alipay and complete config loads; listing the sandbox is refused', () => {
    const c = loadConfig(production);
    assert.equal(c.service.env, 'production');
    assert.deepEqual(c.payment.providers, ['wechatpay', 'alipay']);
    refused({ QIANFAN_PAYMENT__PROVIDERS: 'wechatpay,alipay,sandbox' }, 'payment.providers', /sandbox/);
  });

  it('a listed provider without complete config refuses to start, naming the missing key', () => {
    refused(
      { QIANFAN_PAYMENT__WECHATPAY__MCH_ID: '' },
      'payment.wechatpay.mchId',
      /required when payment.providers lists wechatpay/,
    );
    refused({ QIANFAN_PAYMENT__WECHATPAY__NOTIFY_URL: '' }, 'payment.wechatpay.notifyUrl', /required/);
    refused(
      { QIANFAN_PAYMENT__WECHATPAY__PLATFORM_PUBLIC_KEY_FILE: '' },
      'payment.wechatpay.platformPublicKeyFile',
      /public-key mode/,
    );
    refused({ QIANFAN_PAYMENT__WECHATPAY__API_V3_KEY: 'too-short' }, 'payment.wechatpay.apiV3Key', /32-byte/);
    refused(
      { QIANFAN_PAYMENT__ALIPAY__APP_ID: '' },
      'payment.alipay.appId',
      /required when payment.providers lists alipay/,
    );
    refused({ QIANFAN_PAYMENT__ALIPAY__ALIPAY_PUBLIC_KEY_FILE: '' }, 'payment.alipay.alipayPublicKeyFile', /required/);
    refused(
      { QIANFAN_PAYMENT__ALIPAY__PRIVATE_KEY_FILE: '/nonexistent/app.key' },
      'payment.alipay.privateKeyFile',
      /cannot read .*ENOENT/,
    );
    const notPem = path.join(dir, 'not-a-key.pem');
    writeFileSync(notPem, 'hello');
    refused(
      { QIANFAN_PAYMENT__WECHATPAY__MERCHANT_PRIVATE_KEY_FILE: notPem },
      'payment.wechatpay.merchantPrivateKeyFile',
      /PEM private key/,
    );
    refused({ QIANFAN_PAYMENT__ALIPAY__NOTIFY_URL: 'http://order.example.com/n' }, 'payment.alipay.notifyUrl', /https/);
    // The refusal never prints the APIv3 key.
    assert.throws(
      () => loadConfig({ ...production, QIANFAN_PAYMENT__WECHATPAY__API_V3_KEY: 'secret-but-31-bytes-long-123456' }),
      (err: Error) => !err.message.includes('secret-but-31-bytes-long-123456'),
    );
  });

  it('WeChat Pay certificate mode: the platform certificate’s serial names its key', () => {
    const pair = rsaPair();
    const cert = selfSignedCertificate(dir, 'wx-platform', pair);
    const c = loadConfig({
      ...production,
      QIANFAN_PAYMENT__WECHATPAY__PLATFORM_PUBLIC_KEY_ID: '',
      QIANFAN_PAYMENT__WECHATPAY__PLATFORM_PUBLIC_KEY_FILE: '',
      QIANFAN_PAYMENT__WECHATPAY__PLATFORM_CERTIFICATE_FILE: cert.file,
    });
    const keys = wechatpayPlatformKeys(c.payment.wechatpay);
    assert.deepEqual(Object.keys(keys), [cert.serial]);
    assert.equal(keys[cert.serial]!.trim(), pair.publicKey.trim());
  });

  describe('a production restful process', () => {
    const procs: Array<ReturnType<typeof startProcess>> = [];
    after(async () => {
      await Promise.all(procs.map((p) => stopWithin(p, 10_000)));
    });
    it('starts with both providers configured, and exits 2 naming the key when the sandbox is listed', async () => {
      // The test stack's stores (config/test.yaml) with production's rules: secrets of its own, no sandbox.
      const env = {
        ...production,
        QIANFAN_CONFIG: TEST_CONFIG_FILE,
        QIANFAN_SERVICE__ENV: 'production',
        QIANFAN_PAYMENT__SANDBOX__ENABLED: 'false',
        QIANFAN_MYSQL__PASSWORD: '',
        QIANFAN_GRPC__SERVICE_TOKENS: 'dev:svc-dev-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e',
        QIANFAN_GRPC__ALLOW_PLAINTEXT: 'true',
      };
      const bad = startProcess('restful/main.ts', [], {
        ...env,
        QIANFAN_PAYMENT__PROVIDERS: 'wechatpay,alipay,sandbox',
      });
      const exit = await bad.exited;
      assert.equal(exit.code, 2, bad.output());
      assert.match(bad.output(), /payment\.providers/);
      const p = startProcess('restful/main.ts', [], env);
      procs.push(p);
      const port = testConfig().http.port;
      await waitFor('production restful ready', 30_000, async () => {
        if (p.child.exitCode !== null) throw new Error(`exited ${p.child.exitCode}: ${p.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
      });
    });
  });
});
