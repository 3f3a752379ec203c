import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { credentials, Metadata } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { CLAIM_TTL_MS } from '../internal/svc/index.js';
import { HealthCheckResponse_ServingStatus, HealthClient } from '../pkg/gen/grpc/health/v1/health.js';
import { testConfig } from './helpers/config.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { promtoolLint } from './helpers/promtool.js';
import { waitFor } from './helpers/wait.js';

const config = testConfig();

async function readyz(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** `promtool check metrics` on a process's real exposition (naming, types, help text). */
function promtoolCheck(text: string, who: string) {
  const r = promtoolLint(text);
  assert.ok(r.ok, `promtool check metrics (${who}):\n${r.output}`);
}

async function expectReady(p: Proc, port: number, deps: string[], metricsPort = port) {
  const r = await waitFor(`readyz on ${port}`, 30_000, async () => {
    if (p.child.exitCode !== null) throw new Error(`process exited ${p.child.exitCode}:\n${p.output()}`);
    const res = await readyz(port);
    return res.status === 200 ? res : undefined;
  });
  assert.equal(r.body.status, 'ok');
  assert.deepEqual(Object.keys(r.body.checks as object).sort(), [...deps].sort());
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(metrics, /process_cpu_user_seconds_total\{service="qianfan-order",process="\w+"\}/);
  assert.match(metrics, /qianfan_db_pool_connections\{state="in_use",service="qianfan-order"/);
  promtoolCheck(metrics, `port ${metricsPort}`);
  const health = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(health.status, 200);
}

async function expectGracefulStop(p: Proc) {
  const { code, ms } = await stopWithin(p, 10_000);
  assert.equal(code, 0, `exit code ${code}; output:\n${p.output()}`);
  assert.ok(ms < 10_000, `took ${ms} ms to stop`);
}

function grpcHealth(port: number, service: string): Promise<HealthCheckResponse_ServingStatus> {
  const client = new HealthClient(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.check({ service }, new Metadata(), { deadline: Date.now() + 3000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    }),
  );
}

describe('each process starts, reports ready and exits 0 within 10 s of SIGTERM', () => {
  const started: Proc[] = [];
  after(() => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('restful', async () => {
    const p = startProcess('restful/main.ts');
    started.push(p);
    await expectReady(p, config.http.port, ['mysql', 'redis', 'rocketmq'], config.admin.restfulPort);
    // Metrics are on the admin port only, never on the public API port.
    assert.equal((await fetch(`http://127.0.0.1:${config.http.port}/metrics`)).status, 404);
    assert.equal((await readyz(config.admin.restfulPort)).status, 200);
    const openapi = await fetch(`http://127.0.0.1:${config.http.port}/openapi.json`);
    assert.equal(((await openapi.json()) as { openapi: string }).openapi, '3.0.3');
    const missing = await fetch(`http://127.0.0.1:${config.http.port}/v1/nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { code: string }).code, 'NOT_FOUND');
    await expectGracefulStop(p);
  });

  it('service: gRPC health, etcd registration, deregistration on stop', async () => {
    const p = startProcess('service/main.ts');
    started.push(p);
    await expectReady(p, config.admin.servicePort, ['mysql', 'redis', 'etcd', 'rocketmq']);
    assert.equal(await grpcHealth(config.grpc.port, ''), HealthCheckResponse_ServingStatus.SERVING);
    assert.equal(
      await grpcHealth(config.grpc.port, 'qianfan.order.v1.OrderService'),
      HealthCheckResponse_ServingStatus.SERVING,
    );
    const etcd = new Etcd3({ hosts: config.etcd.endpoints });
    try {
      // go-zero's layout: <service key>/<lease id> -> host:port.
      const dir = `${config.etcd.prefix}qianfan.order.v1.OrderService/`;
      const address = `${config.grpc.advertiseHost}:${config.grpc.port}`;
      const listed = Object.entries(await etcd.getAll().prefix(dir).strings()).filter(([, v]) => v === address);
      assert.equal(listed.length, 1, `not listed once under ${dir}`);
      assert.match(listed[0]![0], /\/\d+$/);
      await expectGracefulStop(p);
      assert.equal(await etcd.get(listed[0]![0]).string(), null, 'still listed in etcd after stop');
    } finally {
      etcd.close();
    }
  });

  it('consumer', async () => {
    const p = startProcess('consumer/main.ts');
    started.push(p);
    await expectReady(p, config.admin.consumerPort, ['mysql', 'redis', 'rocketmq', 'consumers']);
    await expectGracefulStop(p);
  });

  it('job', async () => {
    const p = startProcess('job/main.ts');
    started.push(p);
    await expectReady(p, config.admin.jobPort, ['mysql', 'redis', 'rocketmq']);
    await expectGracefulStop(p);
  });

  it('service.instance is claimed: a second job with the same instance exits 2 naming the holder; after kill -9 a restart takes it over', async () => {
    const env = (port: number) => ({ QIANFAN_SERVICE__INSTANCE: '60', QIANFAN_ADMIN__JOB_PORT: String(port) });
    const ready = (port: number) =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
    const a = startProcess('job/main.ts', [], env(19260));
    started.push(a);
    await waitFor('the first job ready', 60_000, () => ready(19260));
    const b = startProcess('job/main.ts', [], env(19261));
    started.push(b);
    const refused = await b.exited;
    assert.equal(refused.code, 2, b.output());
    assert.match(
      b.output(),
      new RegExp(`worker id 483 \\(service\\.instance 60, job\\) is held by job pid ${a.child.pid}`),
    );
    // Another kind of process with the same instance has its own worker id.
    const consumer = startProcess('consumer/main.ts', [], {
      QIANFAN_SERVICE__INSTANCE: '60',
      QIANFAN_ADMIN__CONSUMER_PORT: '19262',
    });
    started.push(consumer);
    await waitFor('a consumer with instance 60 ready', 60_000, () => ready(19262));
    await expectGracefulStop(consumer);
    a.child.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const c = startProcess('job/main.ts', [], env(19260));
    started.push(c);
    await waitFor('the restarted job ready', 60_000, () => ready(19260));
    assert.ok(Date.now() - killedAt < CLAIM_TTL_MS, 'taken over at once, not after the claim expired');
    await expectGracefulStop(c);
  });

  it('a process whose dependency is down fails to start with a clear message and exit 1', async () => {
    const p = startProcess('job/main.ts', [], { QIANFAN_REDIS__PORT: '1' });
    started.push(p);
    const { code } = await p.exited;
    assert.equal(code, 1);
    assert.match(p.output(), /cannot connect to Redis at 127\.0\.0\.1:1/);
  });

  it('a process with bad config exits 2 naming the key', async () => {
    const p = startProcess('restful/main.ts', [], { QIANFAN_HTTP__PORT: 'x' });
    started.push(p);
    const { code } = await p.exited;
    assert.equal(code, 2);
    assert.match(p.output(), /http\.port: got "x"/);
  });
});
