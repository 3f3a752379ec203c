import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../internal/config/index.js';

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
});
