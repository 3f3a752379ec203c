import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { registerInstance, serviceKey } from '../internal/discovery/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { waitFor } from './helpers/wait.js';

// Against the real etcd of deploy/etcd/etcd.sh.
describe('etcd', () => {
  let ctx: ServiceContext;
  let etcd: Etcd3;
  const prefix = `/qianfan-test/${randomUUID()}/`;

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', etcd: true, logger: testLogger });
    etcd = ctx.etcd!;
  });
  after(async () => {
    await etcd?.delete().prefix(prefix);
    await ctx?.close();
  });

  it('put, get and a prefix watch that sees puts and deletes', async () => {
    const events: string[] = [];
    const watcher = await etcd.watch().prefix(`${prefix}w/`).create();
    watcher.on('put', (kv) => events.push(`put ${kv.key.toString()}=${kv.value.toString()}`));
    watcher.on('delete', (kv) => events.push(`delete ${kv.key.toString()}`));
    try {
      await etcd.put(`${prefix}w/a`).value('1');
      await etcd.put(`${prefix}w/a`).value('2');
      await etcd.delete().key(`${prefix}w/a`);
      assert.equal(await etcd.get(`${prefix}w/a`).string(), null);
      await waitFor('three watch events', 5000, () => events.length >= 3);
      assert.deepEqual(events, [`put ${prefix}w/a=1`, `put ${prefix}w/a=2`, `delete ${prefix}w/a`]);
    } finally {
      await watcher.cancel();
    }
  });

  it('a key under a lease that is not kept alive expires after its TTL', async () => {
    const lease = etcd.lease(2, { autoKeepAlive: false });
    await lease.put(`${prefix}lease/x`).value('alive');
    assert.equal(await etcd.get(`${prefix}lease/x`).string(), 'alive');
    const started = Date.now();
    await waitFor(
      'the leased key to expire',
      10_000,
      async () => (await etcd.get(`${prefix}lease/x`).string()) === null,
    );
    assert.ok(Date.now() - started >= 1000, 'expired before its TTL');
  });

  const service = 'qianfan.order.v1.OrderService';
  // What a go-zero zrpc client does with `Etcd.Key`: read every value under `<key>/`.
  const goZeroResolve = async () =>
    Object.values(
      await etcd
        .getAll()
        .prefix(`${serviceKey(prefix, service)}/`)
        .strings(),
    );

  it('an instance is listed the go-zero way (<key>/<lease id> -> host:port) while alive, gone at once on close', async () => {
    const reg = await registerInstance(etcd, {
      prefix,
      service,
      address: '127.0.0.1:19999',
      version: 'test',
      ttlSeconds: 2,
      logger: testLogger,
    });
    assert.match(reg.key, new RegExp(`^${serviceKey(prefix, service)}/\\d+$`));
    // Outlives several TTLs because the client keeps the lease alive.
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(await etcd.get(reg.key).string(), '127.0.0.1:19999');
    assert.deepEqual(await goZeroResolve(), ['127.0.0.1:19999']);
    await reg.close();
    assert.equal(await etcd.get(reg.key).string(), null);
    assert.deepEqual(await goZeroResolve(), []);
  });

  it('an instance whose lease etcd lost lists itself again under a new lease', async () => {
    const reg = await registerInstance(etcd, {
      prefix,
      service,
      address: '127.0.0.1:19998',
      version: 'test',
      ttlSeconds: 2,
      logger: testLogger,
    });
    try {
      const first = reg.key;
      // As after an etcd restart that lost the lease: revoke it behind the registration's back.
      await etcd.leaseClient.leaseRevoke({ ID: first.slice(first.lastIndexOf('/') + 1) });
      assert.equal(await etcd.get(first).string(), null);
      await waitFor('the instance to be listed again', 15_000, async () => reg.key !== first);
      assert.equal(await etcd.get(reg.key).string(), '127.0.0.1:19998');
      assert.deepEqual(await goZeroResolve(), ['127.0.0.1:19998']);
    } finally {
      await reg.close();
    }
  });

  it('an instance lists itself again after etcd restarts (down longer than its lease TTL)', async (t) => {
    const runDir = process.env.QIANFAN_RUN_DIR ?? '/dev/shm/qianfan-order';
    if (!existsSync(path.join(runDir, 'etcd.pid'))) {
      t.skip('etcd was not started by deploy/etcd/etcd.sh, so this test cannot restart it');
      return;
    }
    const etcdScript = (cmd: string) => {
      const r = spawnSync('bash', ['deploy/etcd/etcd.sh', cmd], { encoding: 'utf8' });
      assert.equal(r.status, 0, `etcd.sh ${cmd}: ${r.stdout}${r.stderr}`);
    };
    const reg = await registerInstance(etcd, {
      prefix,
      service,
      address: '127.0.0.1:19997',
      version: 'test',
      ttlSeconds: 2,
      logger: testLogger,
    });
    try {
      assert.ok((await goZeroResolve()).includes('127.0.0.1:19997'));
      etcdScript('stop');
      await new Promise((r) => setTimeout(r, 4000));
      etcdScript('start');
      await waitFor('the instance listed again after the restart', 30_000, async () =>
        (await goZeroResolve().catch((): string[] => [])).includes('127.0.0.1:19997'),
      );
      // Still listed a few TTLs later: the registration keeps it alive again.
      await new Promise((r) => setTimeout(r, 5000));
      assert.ok((await goZeroResolve()).includes('127.0.0.1:19997'));
    } finally {
      await reg.close();
    }
  });
});
