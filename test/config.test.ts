import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, DEV_SECRETS, loadConfig } from '../internal/config/index.js';

function withFile(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qf-config-'));
  const file = path.join(dir, 'c.yaml');
  writeFileSync(file, yaml);
  return file;
}

const minimal = 'mysql:\n  database: qianfan_order\npayment:\n  webhookSecret: test-webhook-secret-0123456789\n';

describe('config', () => {
  it('fills defaults around a minimal file', () => {
    const c = loadConfig({ QIANFAN_CONFIG: withFile(minimal) });
    assert.equal(c.http.port, 8888);
    assert.equal(c.grpc.port, 9000);
    assert.equal(c.admin.servicePort, 9101);
    assert.equal(c.mysql.database, 'qianfan_order');
    assert.equal(c.order.paymentTimeoutMinutes, 30);
  });

  it('applies QIANFAN_<SECTION>__<KEY> overrides with type coercion', () => {
    const c = loadConfig({
      QIANFAN_CONFIG: withFile(minimal),
      QIANFAN_MYSQL__POOL_SIZE: '32',
      QIANFAN_TRACING__ENABLED: 'true',
      QIANFAN_GRPC__SERVICE_TOKENS: 'a, b',
      QIANFAN_RUN_DIR: '/ignored/not/a/config/key',
    });
    assert.equal(c.mysql.poolSize, 32);
    assert.equal(c.tracing.enabled, true);
    assert.deepEqual(c.grpc.serviceTokens, ['a', 'b']);
  });

  it('names the key, the value seen, its source and the expected form', () => {
    assert.throws(
      () => loadConfig({ QIANFAN_CONFIG: withFile(minimal), QIANFAN_HTTP__PORT: 'eighty' }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.includes('http.port') &&
        err.message.includes('"eighty"') &&
        err.message.includes('QIANFAN_HTTP__PORT') &&
        /number/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ QIANFAN_CONFIG: withFile(`${minimal}http:\n  port: 70000\n`) }),
      (err: Error) =>
        err.message.includes('http.port') && err.message.includes('70000') && err.message.includes('c.yaml'),
    );
  });

  it('reports a missing required key', () => {
    assert.throws(
      () => loadConfig({ QIANFAN_CONFIG: withFile('http:\n  port: 8080\n') }),
      (err: Error) =>
        err instanceof ConfigError && err.message.includes('mysql.database') && err.message.includes('got nothing'),
    );
  });

  it('rejects unknown keys and unknown environment overrides', () => {
    assert.throws(
      () => loadConfig({ QIANFAN_CONFIG: withFile(`${minimal}http:\n  prot: 1\n`) }),
      (err: Error) => err.message.includes('unknown key(s) prot'),
    );
    assert.throws(
      () => loadConfig({ QIANFAN_CONFIG: withFile(minimal), QIANFAN_HTTP__PROT: '1' }),
      (err: Error) => err.message.includes('QIANFAN_HTTP__PROT') && err.message.includes('names no config key'),
    );
  });

  it('never prints secret values', () => {
    assert.throws(
      () =>
        loadConfig({
          QIANFAN_CONFIG: withFile(minimal),
          QIANFAN_MYSQL__PASSWORD: '',
          QIANFAN_AUTH__JWT_ALGORITHM: 'none',
        }),
      (err: Error) => err.message.includes('auth.jwtAlgorithm'),
    );
    const file = withFile(`${minimal}redis:\n  password: 12345\n`);
    assert.throws(
      () => loadConfig({ QIANFAN_CONFIG: file }),
      (err: Error) =>
        err.message.includes('redis.password') && err.message.includes('<redacted>') && !err.message.includes('12345'),
    );
  });

  it('explains a missing or malformed file', () => {
    assert.throws(() => loadConfig({ QIANFAN_CONFIG: '/nonexistent/x.yaml' }), /does not exist .*QIANFAN_CONFIG/);
    assert.throws(() => loadConfig({ QIANFAN_CONFIG: withFile('a: [1, 2\n') }), /not valid YAML/);
    assert.throws(() => loadConfig({ QIANFAN_CONFIG: withFile('- 1\n- 2\n') }), /YAML mapping/);
  });

  it('the shipped config files are valid', () => {
    for (const f of ['config/default.yaml', 'config/test.yaml']) loadConfig({ QIANFAN_CONFIG: f });
  });

  it('is secure by default: no sandbox unless enabled, never in production, no dev secrets outside dev/test', () => {
    const c = loadConfig({ QIANFAN_CONFIG: withFile(minimal) });
    assert.equal(c.payment.sandbox.enabled, false);
    assert.deepEqual(c.payment.providers, []);
    const refused = (env: Record<string, string>, key: string) =>
      assert.throws(
        () => loadConfig({ QIANFAN_CONFIG: withFile(minimal), ...env }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(key),
        key,
      );
    refused({ QIANFAN_PAYMENT__PROVIDERS: 'sandbox' }, 'payment.providers');
    refused(
      { QIANFAN_SERVICE__ENV: 'production', QIANFAN_PAYMENT__SANDBOX__ENABLED: 'true' },
      'payment.sandbox.enabled',
    );
    refused(
      { QIANFAN_SERVICE__ENV: 'staging', QIANFAN_PAYMENT__WEBHOOK_SECRET: 'dev-only-webhook-secret-0123456789' },
      'payment.webhookSecret',
    );
    refused(
      { QIANFAN_SERVICE__ENV: 'production', QIANFAN_AUTH__JWT_SECRET: 'dev-only-jwt-secret-change-me-0123456789' },
      'auth.jwtSecret',
    );
    refused({ QIANFAN_ROCKETMQ__LOCAL_TX_MAX_MS: '30000' }, 'rocketmq.txRollbackAfterMs');
    const dev = loadConfig({ QIANFAN_CONFIG: 'config/default.yaml' });
    assert.equal(dev.payment.sandbox.enabled, true);
  });

  it('the image ships only config/production.yaml, which holds no secrets and needs them from the environment', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    const copies = dockerfile.split('\n').filter((l) => /^COPY\b.*\bconfig\b/.test(l));
    assert.deepEqual(copies, ['COPY config/production.yaml ./config/production.yaml']);
    const text = readFileSync('config/production.yaml', 'utf8');
    for (const secret of DEV_SECRETS) assert.ok(!text.includes(secret));
    assert.throws(() => loadConfig({ QIANFAN_CONFIG: 'config/production.yaml' }), /payment\.webhookSecret/);
    const c = loadConfig({
      QIANFAN_CONFIG: 'config/production.yaml',
      QIANFAN_PAYMENT__WEBHOOK_SECRET: 'a-real-secret-from-the-provider',
      QIANFAN_AUTH__JWT_SECRET: 'a-real-jwt-secret-of-32-characters-or-more',
    });
    assert.equal(c.service.env, 'production');
    assert.equal(c.payment.sandbox.enabled, false);
  });
});
