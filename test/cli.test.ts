import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { verifyToken } from '../internal/auth/index.js';
import { testConfig, testEnv } from './helpers/config.js';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['bin/qianfan-order.js', ...args], { env: testEnv(env), encoding: 'utf8' });
}

describe('operator CLI (bin qianfan-order)', () => {
  it('--help lists every command, and every command has --help', () => {
    const r = cli(['--help']);
    assert.equal(r.status, 0);
    for (const c of ['migrate', 'seed', 'token', 'config', 'sandbox', 'dlq', 'reconcile', 'refund']) {
      assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`));
      const h = cli([c, '--help']);
      assert.equal(h.status, 0, `${c} --help`);
      assert.match(h.stdout, new RegExp(`Usage: qianfan-order ${c}`));
    }
  });

  it('an unknown command or a bad option value exits 2 with a message', () => {
    const u = cli(['frobnicate']);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /unknown command 'frobnicate'/);
    const b = cli(['token', '--user', 'bob']);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /expected a numeric user id/);
  });

  it('bad config exits 2 naming the key; an unreachable database exits 1 saying what to check', () => {
    const c = cli(['config'], { QIANFAN_MYSQL__POOL_SIZE: '0' });
    assert.equal(c.status, 2);
    assert.match(c.stderr, /mysql\.poolSize: got "0"/);
    const m = cli(['migrate'], { QIANFAN_MYSQL__PORT: '1' });
    assert.equal(m.status, 1);
    assert.match(m.stderr, /cannot use MySQL database .* at 127\.0\.0\.1:1 .*datastores\.sh/);
  });

  it('config prints the effective config with secrets redacted', () => {
    const r = cli(['config'], { QIANFAN_AUTH__JWT_SECRET: 'super-secret-value-0123456789-abcdef' });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /database: qianfan_order_test/);
    assert.doesNotMatch(r.stdout, /super-secret-value/);
    assert.match(r.stdout, /jwtSecret: "?\[redacted\]"?/);
  });

  it('token mints a JWT the service accepts, with subject and roles', async () => {
    const r = cli(['token', '--user', '1001', '--roles', 'user,admin', '--ttl', '10m']);
    assert.equal(r.status, 0, r.stderr);
    const p = await verifyToken(testConfig().auth, r.stdout.trim());
    assert.deepEqual(p, { userId: '1001', roles: ['user', 'admin'] });
  });

  it('migrate is a no-op the second time and seed is repeatable', () => {
    const first = cli(['migrate']);
    assert.equal(first.status, 0, first.stderr);
    const second = cli(['migrate']);
    assert.equal(second.status, 0);
    assert.match(second.stdout, /up to date/);
    for (let i = 0; i < 2; i++) {
      const s = cli(['seed']);
      assert.equal(s.status, 0, s.stderr);
      assert.match(s.stdout, /seeded 5 demo SKUs/);
    }
  });

  it('dlq, reconcile and refund commands: JSON output, bad usage exits 2, the sandbox refuses when disabled', () => {
    const list = cli(['dlq', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const doc = JSON.parse(list.stdout) as { letters: unknown[]; open: unknown[] };
    assert.ok(Array.isArray(doc.letters) && Array.isArray(doc.open));
    const noIds = cli(['dlq', 'replay']);
    assert.equal(noIds.status, 2);
    assert.match(noIds.stderr, /name the dead-letter ids to replay, or --all/);
    const badId = cli(['dlq', 'replay', 'abc']);
    assert.equal(badId.status, 2);
    assert.match(badId.stderr, /not a dead-letter id/);
    const dry = cli(['dlq', 'replay', '--all', '--dry-run', '--json']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.equal(JSON.parse(dry.stdout).dryRun, true);
    const badStatus = cli(['dlq', 'list', '--status', 'NOPE']);
    assert.equal(badStatus.status, 2);
    const refund = cli(['refund', 'retry', 'x1']);
    assert.equal(refund.status, 2);
    const missing = cli(['refund', 'retry', '1', '--dry-run']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /REFUND_NOT_FOUND/);
    const rec = cli(['reconcile', 'payments', '--json', '--since', new Date(Date.now() - 60_000).toISOString()]);
    assert.equal(rec.status, 0, rec.stderr);
    assert.ok('findings' in JSON.parse(rec.stdout));
    const sandboxOff = cli(['sandbox', 'pay', '1'], {
      QIANFAN_PAYMENT__SANDBOX__ENABLED: 'false',
      QIANFAN_PAYMENT__PROVIDERS: '',
    });
    assert.equal(sandboxOff.status, 2);
    assert.match(sandboxOff.stderr, /sandbox is disabled/);
  });
});
