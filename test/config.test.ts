import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ConfigError, DEV_SECRETS, loadConfig } from '../internal/config/index.js';

function withFile(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'qf-config-'));
  const file = path.join(dir, 'c.yaml');
  writeFileSync(file, yaml);
  return file;
}

const minimal =
  'mysql:\n  database: qianfan_order\npayment:\n  webhookSecret: test-webhook-secret-0123456789\nauth:\n  jwtSecret: test-jwt-secret-of-32-characters-or-more\ngrpc:\n  callers:\n    points: [GetOrder]\n    fulfil: [GetOrder, ShipOrder]\n';

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
      QIANFAN_GRPC__SERVICE_TOKENS: 'points:a, fulfil:b:c',
      QIANFAN_RUN_DIR: '/ignored/not/a/config/key',
    });
    assert.equal(c.mysql.poolSize, 32);
    assert.equal(c.tracing.enabled, true);
    assert.deepEqual(c.grpc.serviceTokens, [
      { caller: 'points', token: 'a' },
      { caller: 'fulfil', token: 'b:c' },
    ]);
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
      QIANFAN_PAYMENT__WEBHOOK_SECRET: 'a-real-secret-from-the-provider-console',
      QIANFAN_AUTH__JWT_SECRET: 'a-real-jwt-secret-of-32-characters-or-more',
    });
    assert.equal(c.service.env, 'production');
    assert.equal(c.payment.sandbox.enabled, false);
  });

  it('http.trustProxy takes what Fastify takes: false, true, a hop count, or addresses and CIDRs', () => {
    const trust = (v: string) =>
      loadConfig({ QIANFAN_CONFIG: withFile(minimal), QIANFAN_HTTP__TRUST_PROXY: v }).http.trustProxy;
    assert.equal(trust('false'), false);
    assert.equal(trust('true'), true);
    assert.equal(trust('1'), 1);
    assert.deepEqual(trust('127.0.0.1'), ['127.0.0.1']);
    assert.deepEqual(trust('10.0.0.0/8, 172.16.0.0/12,::1,loopback'), [
      '10.0.0.0/8',
      '172.16.0.0/12',
      '::1',
      'loopback',
    ]);
    assert.deepEqual(
      loadConfig({ QIANFAN_CONFIG: withFile(`${minimal}http:\n  trustProxy: [10.0.0.0/8]\n`) }).http.trustProxy,
      ['10.0.0.0/8'],
    );
    for (const bad of ['nginx', '10.0.0.0/33', '300.1.1.1', '0']) {
      assert.throws(
        () => trust(bad),
        (err: Error) => err instanceof ConfigError && err.message.includes('http.trustProxy'),
        bad,
      );
    }
  });

  it('refuses an HS256 secret under 32 characters and an RS256 setup without a usable public key, in every env', () => {
    const refused = (env: Record<string, string>, key: string) =>
      assert.throws(
        () => loadConfig({ QIANFAN_CONFIG: withFile(minimal), ...env }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(key),
        key,
      );
    refused({ QIANFAN_AUTH__JWT_SECRET: '' }, 'auth.jwtSecret');
    refused({ QIANFAN_AUTH__JWT_SECRET: 'short-secret' }, 'auth.jwtSecret');
    refused({ QIANFAN_AUTH__JWT_ALGORITHM: 'RS256' }, 'auth.jwtPublicKey');
    refused({ QIANFAN_AUTH__JWT_ALGORITHM: 'RS256', QIANFAN_AUTH__JWT_PUBLIC_KEY: 'not a pem' }, 'auth.jwtPublicKey');
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' });
    const rs = loadConfig({
      QIANFAN_CONFIG: withFile(minimal),
      QIANFAN_AUTH__JWT_ALGORITHM: 'RS256',
      QIANFAN_AUTH__JWT_PUBLIC_KEY: pem.toString(),
    });
    assert.equal(rs.auth.jwtAlgorithm, 'RS256');
  });

  describe('staging and production refuse what is only safe in development', () => {
    const good = {
      QIANFAN_CONFIG: 'config/production.yaml',
      QIANFAN_PAYMENT__WEBHOOK_SECRET: 'whsec-8f3a1c9e2b7d4f6a0c5e8b1d3f7a9c2e',
      QIANFAN_AUTH__JWT_SECRET: 'jwt-2d9f7b3e1a6c8d0f4b2e9a7c5d3f1b8e',
      QIANFAN_GRPC__SERVICE_TOKENS:
        'checkout:svc-points-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e,fulfilment:svc-fulfil-1b3d5f7a9c2e4a6c8e0b2d4f6a8c1e3f',
      QIANFAN_MYSQL__PASSWORD: 'a-database-password',
      QIANFAN_HTTP__TRUST_PROXY: '10.0.0.0/8',
    };
    const refused = (env: Record<string, string>, key: string, why: RegExp) =>
      assert.throws(
        () => loadConfig({ ...good, ...env }),
        (err: unknown) => err instanceof ConfigError && err.message.includes(key) && why.test(err.message),
        `${key} ${JSON.stringify(env)}`,
      );

    it('starts with real-looking secrets', () => {
      const c = loadConfig(good);
      assert.equal(c.service.env, 'production');
      assert.deepEqual(c.http.trustProxy, ['10.0.0.0/8']);
      assert.equal(loadConfig({ ...good, QIANFAN_SERVICE__ENV: 'staging' }).service.env, 'staging');
    });

    for (const env of ['production', 'staging']) {
      it(`${env}: placeholders, repository values, short secrets and tokens, sandbox, unknown providers, trustProxy true`, () => {
        const e = { QIANFAN_SERVICE__ENV: env };
        refused(
          { ...e, QIANFAN_AUTH__JWT_SECRET: 'change-me-to-32-or-more-characters-please' },
          'auth.jwtSecret',
          /committed/,
        );
        refused(
          { ...e, QIANFAN_AUTH__JWT_SECRET: 'our-own-secret-please-change-me-0123456' },
          'auth.jwtSecret',
          /placeholder/,
        );
        refused(
          { ...e, QIANFAN_PAYMENT__WEBHOOK_SECRET: 'sixteen-chars-ok-but-31-is-short'.slice(0, 31) },
          'payment.webhookSecret',
          /shorter than 32/,
        );
        refused(
          { ...e, QIANFAN_PAYMENT__WEBHOOK_SECRET: 'local-compose-webhook-secret-0123456789' },
          'payment.webhookSecret',
          /committed/,
        );
        refused(
          { ...e, QIANFAN_GRPC__SERVICE_TOKENS: 'payment:dev-service-token' },
          'grpc.serviceTokens.0',
          /committed/,
        );
        refused(
          {
            ...e,
            QIANFAN_GRPC__SERVICE_TOKENS: `${good.QIANFAN_GRPC__SERVICE_TOKENS.split(',')[0]},payment:short-token`,
          },
          'grpc.serviceTokens.1',
          /shorter than 32/,
        );
        refused({ ...e, QIANFAN_MYSQL__PASSWORD: 'change-me' }, 'mysql.password', /committed/);
        refused({ ...e, QIANFAN_MYSQL__PASSWORD: 'qianfan-local' }, 'mysql.password', /committed/);
        refused({ ...e, QIANFAN_PAYMENT__SANDBOX__ENABLED: 'true' }, 'payment.sandbox.enabled', /dev and test only/);
        refused({ ...e, QIANFAN_PAYMENT__PROVIDERS: 'paypal' }, 'payment.providers', /unknown provider 'paypal'/);
        refused({ ...e, QIANFAN_HTTP__TRUST_PROXY: 'true' }, 'http.trustProxy', /any client/);
        // The refusal never prints the secret it refused.
        assert.throws(
          () => loadConfig({ ...good, ...e, QIANFAN_AUTH__JWT_SECRET: 'short-but-secret-value' }),
          (err: Error) => !err.message.includes('short-but-secret-value'),
        );
      });
    }

    it('gRPC: named callers with listed methods, TLS unless plaintext is allowed explicitly', () => {
      const e = { QIANFAN_SERVICE__ENV: 'production' };
      refused(
        { ...e, QIANFAN_GRPC__SERVICE_TOKENS: 'svc-points-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e' },
        'grpc.serviceTokens.0',
        /<caller>:<token>/,
      );
      refused(
        { ...e, QIANFAN_GRPC__SERVICE_TOKENS: 'points:svc-points-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e' },
        'grpc.serviceTokens.0',
        /caller 'points' has no entry in grpc.callers/,
      );
      refused({ ...e, QIANFAN_GRPC__TLS__CERT_FILE: '' }, 'grpc.tls.certFile', /serves gRPC over TLS/);
      refused({ ...e, QIANFAN_GRPC__TLS__KEY_FILE: '' }, 'grpc.tls.keyFile', /both certFile and keyFile/);
      refused({ ...e, QIANFAN_GRPC__TLS__REQUIRE_CLIENT_CERT: 'true' }, 'grpc.tls.caFile', /client certificates/);
      const plain = loadConfig({
        ...good,
        QIANFAN_GRPC__TLS__CERT_FILE: '',
        QIANFAN_GRPC__TLS__KEY_FILE: '',
        QIANFAN_GRPC__ALLOW_PLAINTEXT: 'true',
      });
      assert.equal(plain.grpc.allowPlaintext, true);
      const wide = withFile(
        `${readFileSync('config/production.yaml', 'utf8')}\n# test\n`.replace(
          /callers:\n/,
          'callers:\n    ops: ["*"]\n',
        ),
      );
      refused({ QIANFAN_CONFIG: wide }, 'grpc.callers.ops', /'\*' grants every method/);
      // dev and test: '*' and plaintext are fine.
      const dev = loadConfig({ QIANFAN_CONFIG: 'config/default.yaml' });
      assert.deepEqual(dev.grpc.callers.dev, ['*']);
      assert.equal(dev.grpc.tls.certFile, '');
    });

    it('every secret committed in config/ and deploy/ is one that staging and production refuse', () => {
      const secretKey = /PASSWORD|SECRET|TOKEN|password|[sS]ecret|[tT]okens?$/;
      const found = new Set<string>();
      const walk = (node: unknown, key = '') => {
        if (Array.isArray(node)) for (const v of node) walk(v, key);
        else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
        else if (typeof node === 'string' && secretKey.test(key) && key !== 'secretName' && node !== '') {
          // Service tokens are `<caller>:<token>`: the token is the secret.
          for (const part of node.split(','))
            found.add(/tokens?$/i.test(key) ? part.trim().replace(/^[a-z][a-z0-9-]*:/, '') : part.trim());
        }
      };
      const files = [
        'config/default.yaml',
        'config/test.yaml',
        'config/production.yaml',
        'deploy/docker-compose.yml',
        ...readdirSync('deploy/k8s')
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => `deploy/k8s/${f}`),
        'deploy/k8s/examples/secret.example.yaml',
      ];
      for (const f of files) for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) walk(doc.toJSON());
      assert.ok(found.size >= 6, `found only ${[...found].join(', ')}`);
      for (const value of found) {
        if (value.startsWith('/') || value.startsWith('${')) continue; // a file path or an interpolation
        assert.ok(DEV_SECRETS.has(value), `${value} is committed but not in DEV_SECRETS`);
      }
    });
  });
});
