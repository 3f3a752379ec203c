import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signDevToken } from '../internal/auth/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { mariadbPids, stopProcesses } from './helpers/mariadb.js';
import { startNginx } from './helpers/nginx.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

const NGINX_PORT = 18080;
const restfuls = [
  { http: 18881, admin: 18991 },
  { http: 18882, admin: 18992 },
];

// A real nginx (Debian package) in front of two restful processes under steady load: each is stopped
// (SIGTERM) and started again in turn, and not one request fails.
describe('nginx in front of two restful processes', () => {
  let ctx: ServiceContext;
  let nginx: { stop(): void } | undefined;
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
    await Promise.all([startRestful(0), startRestful(1)]);
    nginx = await startNginx([restfuls[0]!.http, restfuls[1]!.http], NGINX_PORT);
  });
  after(async () => {
    nginx?.stop();
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
          const body = await res.text();
          if (res.status === (create ? 201 : 200)) results.ok++;
          // With the service's error code, when it answered one (OVERLOADED, DEPENDENCY_UNAVAILABLE, ...).
          else
            results.failed.push(`${create ? 'POST' : 'GET'} ${res.status} ${/"code":"(\w+)"/.exec(body)?.[1] ?? ''}`);
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

  it('503s from the service (Redis stalled, purchases refused) do not take the instances out: reads keep answering', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 100 }]);
    const token = await signDevToken(ctx.config.auth, { userId: String(Date.now()), roles: ['user'] }, 600);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${NGINX_PORT}`;
    const made = await fetch(`${base}/v1/orders`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: [{ skuId: String(sku), quantity: 1 }], address }),
    });
    assert.equal(made.status, 201);
    const { id } = (await made.json()) as { id: string };
    const info = execFileSync('redis-cli', ['-p', String(ctx.config.redis.port), 'info', 'server'], {
      encoding: 'utf8',
    });
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    process.kill(pid, 'SIGSTOP');
    try {
      const purchases = await Promise.all(
        Array.from({ length: 6 }, () =>
          fetch(`${base}/v1/flash-sales/1/purchases`, {
            method: 'POST',
            headers: { ...headers, 'idempotency-key': randomUUID() },
            body: JSON.stringify({ address }),
          }).then((r) => r.status),
        ),
      );
      assert.deepEqual(purchases, [503, 503, 503, 503, 503, 503], 'purchases are refused while Redis is stalled');
      const reads: number[] = [];
      for (let i = 0; i < 6; i++) reads.push((await fetch(`${base}/v1/orders/${id}`, { headers })).status);
      assert.deepEqual(reads, [200, 200, 200, 200, 200, 200], 'order reads through nginx (from MySQL)');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it("MySQL stalled: POSTs through nginx get the service's own 503 within its default bounds, never nginx's 504, and no instance is taken out", async () => {
    // With nginx's read timeout at or below the service's bound for a stalled MySQL (a pool connection
    // within mysql.acquireTimeoutMs, then the statement within mysql.statementTimeoutMs: 20 s at most by
    // default), nginx cut each request first, answered 504 without Retry-After, and counted the timeouts
    // against both instances, so requests after MySQL came back met 502s.
    assert.equal(ctx.config.mysql.acquireTimeoutMs + ctx.config.mysql.statementTimeoutMs, 20_000, 'default bounds');
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 100 }]);
    const token = await signDevToken(ctx.config.auth, { userId: String(Date.now()), roles: ['user'] }, 600);
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const base = `http://127.0.0.1:${NGINX_PORT}`;
    const create = () =>
      fetch(`${base}/v1/orders`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': randomUUID() },
        body: JSON.stringify({ items: [{ skuId: String(sku), quantity: 1 }], address }),
      });
    const made = await create();
    assert.equal(made.status, 201);
    const { id } = (await made.json()) as { id: string };
    const pids = mariadbPids();
    assert.ok(pids.length > 0, 'no mariadbd to stall');
    const resume = () => {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    };
    process.once('exit', resume);
    stopProcesses(pids);
    // MariaDB comes back after 24 s whatever happens, so a request nothing bounds fails the test below
    // instead of hanging it.
    const safety = setTimeout(resume, 24_000);
    let answers: Array<{ status: number; code?: string; retryAfter: string | null; ms: number }>;
    try {
      // 40 at once: more than the two instances' 16 pool connections each, so some wait for a connection.
      const started = Date.now();
      answers = await Promise.all(
        Array.from({ length: 40 }, async () => {
          const res = await create();
          const body = (await res.json().catch(() => ({}))) as { code?: string };
          return {
            status: res.status,
            code: body.code,
            retryAfter: res.headers.get('retry-after'),
            ms: Date.now() - started,
          };
        }),
      );
    } finally {
      clearTimeout(safety);
      resume();
    }
    const statuses = answers.map((a) => `${a.status} ${a.code ?? ''}`);
    assert.deepEqual(new Set(statuses), new Set(['503 DEPENDENCY_UNAVAILABLE']), statuses.join(', '));
    assert.ok(
      answers.every((a) => a.retryAfter !== null && a.ms < 22_000),
      JSON.stringify(answers),
    );
    // Both instances are still in rotation: the next requests answer at once, none is a 502.
    const reads: number[] = [];
    for (let i = 0; i < 6; i++) reads.push((await fetch(`${base}/v1/orders/${id}`, { headers })).status);
    assert.deepEqual(reads, [200, 200, 200, 200, 200, 200], 'order reads through nginx after the stall');
  });
});

/** One GET through nginx from a given loopback address (a distinct client), with optional extra headers. */
function getFrom(localAddress: string, port: number, url: string, headers: Record<string, string> = {}) {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: url, localAddress, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

// http.trustProxy set to nginx's address, as deploy/k8s and compose set it to the proxy's range: clients
// behind nginx are told apart by the address nginx saw, and a client's own X-Forwarded-For changes nothing.
describe('behind nginx with http.trustProxy = the proxy address', () => {
  const PORT = 18_081;
  const ups = [18_883, 18_884];
  const LIMIT = 6;
  let nginx: { stop(): void } | undefined;
  const procs: Proc[] = [];
  before(async () => {
    const prefix = `qf:order:test:trust:${Date.now()}:`;
    for (const [i, port] of ups.entries()) {
      const p = startProcess('restful/main.ts', [], {
        QIANFAN_SERVICE__INSTANCE: String(20 + i),
        QIANFAN_HTTP__PORT: String(port),
        QIANFAN_ADMIN__RESTFUL_PORT: String(port + 100),
        QIANFAN_HTTP__TRUST_PROXY: '127.0.0.1',
        QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: String(LIMIT),
        QIANFAN_REDIS__KEY_PREFIX: prefix,
      });
      procs.push(p);
    }
    for (const [i, port] of ups.entries()) {
      await waitFor(`restful ${port} ready`, 30_000, async () => {
        if (procs[i]!.child.exitCode !== null) throw new Error(`restful exited:\n${procs[i]!.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok;
      });
    }
    nginx = await startNginx([ups[0]!, ups[1]!], PORT);
  });
  after(() => {
    nginx?.stop();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('a spoofed X-Forwarded-For does not change who the client is; two clients get separate budgets', async () => {
    const url = '/v1/flash-sales/1'; // 401 without a token, but it counts against the client's IP budget
    const a = '127.0.0.2';
    const b = '127.0.0.3';
    for (let i = 0; i < LIMIT; i++) assert.equal(await getFrom(a, PORT, url), 401, `request ${i + 1} of client A`);
    assert.equal(await getFrom(a, PORT, url), 429, 'client A is over its budget');
    // Client A claims to be someone else: nginx appends the address it saw, which is what counts.
    for (const spoof of ['203.0.113.9', '127.0.0.3', '10.1.2.3, 198.51.100.7']) {
      assert.equal(await getFrom(a, PORT, url, { 'x-forwarded-for': spoof }), 429, `spoofed ${spoof}`);
    }
    // Client B has its own budget, untouched by A (with trustProxy false every client would be nginx's IP).
    for (let i = 0; i < LIMIT; i++) assert.equal(await getFrom(b, PORT, url), 401, `request ${i + 1} of client B`);
    assert.equal(await getFrom(b, PORT, url), 429);
  });
});
