import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { signDevToken } from '../internal/auth/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const NGINX_PORT = 18080;
// Debian installs it under /usr/sbin (not always on a user's PATH).
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
const restfuls = [
  { http: 18881, admin: 18991 },
  { http: 18882, admin: 18992 },
];

/** deploy/nginx/qianfan-order.conf with the two local restful processes as its upstream. */
function nginxConfig(dir: string): string {
  const site = readFileSync(path.join(root, 'deploy/nginx/qianfan-order.conf'), 'utf8')
    .replace('restful-1:8888', `127.0.0.1:${restfuls[0]!.http}`)
    .replace('restful-2:8888', `127.0.0.1:${restfuls[1]!.http}`)
    .replace('listen 80;', `listen 127.0.0.1:${NGINX_PORT};`);
  writeFileSync(path.join(dir, 'qianfan-order.conf'), site);
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const main = `
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/qianfan-order.conf;
}`;
  writeFileSync(path.join(dir, 'nginx.conf'), main);
  return path.join(dir, 'nginx.conf');
}

// A real nginx (Debian package) in front of two restful processes under steady load: each is stopped
// (SIGTERM) and started again in turn, and not one request fails.
describe('nginx in front of two restful processes', () => {
  let ctx: ServiceContext;
  let nginx: ChildProcess;
  let dir: string;
  const procs: Array<Proc | undefined> = [undefined, undefined];
  const stopped: Proc[] = [];
  const startRestful = async (i: number) => {
    const p = startProcess('restful/main.ts', [], {
      // Two replicas: each needs its own instance number (the id generator's worker id).
      QIANFAN_SERVICE__INSTANCE: String(10 + i),
      QIANFAN_HTTP__PORT: String(restfuls[i]!.http),
      QIANFAN_ADMIN__RESTFUL_PORT: String(restfuls[i]!.admin),
      QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
      // Its own Redis prefix: the thousands of requests from 127.0.0.1 must not count against the
      // rate limits of the tests that run after this one in the same minute.
      QIANFAN_REDIS__KEY_PREFIX: 'qf:order:test:nginx:',
      QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
    });
    procs[i] = p;
    await waitFor(`restful ${i + 1} ready`, 30_000, async () => {
      if (p.child.exitCode !== null) throw new Error(`restful exited:\n${p.output()}`);
      return (await fetch(`http://127.0.0.1:${restfuls[i]!.http}/readyz`).catch(() => undefined))?.ok;
    });
  };

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: false, logger: testLogger });
    dir = mkdtempSync(path.join(tmpdir(), 'qf-nginx-'));
    const conf = nginxConfig(dir);
    const check = spawn(NGINX, ['-t', '-p', dir, '-c', conf], { stdio: 'pipe' });
    const checked = await new Promise<number | null>((r) => check.once('exit', r));
    assert.equal(checked, 0, 'nginx -t refused deploy/nginx/qianfan-order.conf');
    await Promise.all([startRestful(0), startRestful(1)]);
    nginx = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], { stdio: 'inherit' });
    await waitFor(
      'nginx',
      10_000,
      async () => (await fetch(`http://127.0.0.1:${NGINX_PORT}/healthz`).catch(() => undefined))?.ok,
    );
  });
  after(async () => {
    nginx?.kill('SIGQUIT');
    for (const p of procs) if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
    await ctx?.close();
  });

  it('a rolling restart under load fails no request (reads and idempotent creates)', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 100_000 }]);
    const token = await signDevToken(ctx.config.auth, { userId: String(Date.now()), roles: ['user'] }, 600);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${NGINX_PORT}`;
    const first = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: [{ skuId: String(sku), quantity: 1 }], address }),
    });
    assert.equal(first.status, 201);
    const orderId = ((await first.json()) as { id: string }).id;

    let running = true;
    const results = { ok: 0, failed: [] as string[] };
    const worker = async (n: number) => {
      while (running) {
        const create = n % 4 === 0;
        try {
          const res = create
            ? await fetch(`${base}/v1/orders`, {
                method: 'POST',
                headers: { ...headers, 'idempotency-key': randomUUID() },
                body: JSON.stringify({ items: [{ skuId: String(sku), quantity: 1 }], address }),
              })
            : await fetch(`${base}/v1/orders/${orderId}`, { headers });
          await res.arrayBuffer();
          if (res.status === (create ? 201 : 200)) results.ok++;
          else results.failed.push(`${create ? 'POST' : 'GET'} ${res.status}`);
        } catch (err) {
          results.failed.push(String(err));
        }
      }
    };
    const load = Promise.all(Array.from({ length: 12 }, (_, n) => worker(n)));
    await sleep(1500);
    for (const i of [0, 1]) {
      stopped.push(procs[i]!);
      const { code } = await stopWithin(procs[i]!, 10_000);
      assert.equal(
        code,
        0,
        `restful ${i + 1} did not stop cleanly:\n${procs[i]!.output()
          .split('\n')
          .filter((l) => /"level":"(error|fatal|warn)"/.test(l))
          .slice(-5)
          .join('\n')}`,
      );
      await sleep(500);
      await startRestful(i);
      // Longer than the upstream's fail_timeout (3 s): nginx routes to the restarted one again first.
      await sleep(4000);
    }
    running = false;
    await load;
    assert.deepEqual(
      results.failed.slice(0, 10),
      [],
      `${results.failed.length} of ${results.ok + results.failed.length} failed`,
    );
    assert.ok(results.ok > 200, `only ${results.ok} requests in the run`);
  });
});
