import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/mysql2';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import mysql from 'mysql2/promise';
import { signDevToken } from '../internal/auth/index.js';
import { appErrorIn, isOutage, toAppError } from '../internal/errorx/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { installRequestDeadline } from '../restful/request-deadline.js';
import { toServiceError } from '../service/status.js';
import { testConfig } from './helpers/config.js';
import { inProcessRpc } from './helpers/grpc.js';
import { ownRedis } from './helpers/inject.js';
import { testLogger } from './helpers/logger.js';
import { mariadbPids, stopProcesses } from './helpers/mariadb.js';
import { address, makeSkus, ordersOfUser, stockOf } from './helpers/orders.js';
import { slowProxy } from './helpers/slow-proxy.js';
import { sleep, waitFor } from './helpers/wait.js';

// The bounds under test, small so the test is quick: a statement 1.5 s, a connection 1 s, two connections.
const STATEMENT_MS = 1500;
const ACQUIRE_MS = 1000;

// MariaDB stalls (SIGSTOP): its connections stay open and nothing answers, as in a hung server or a
// partition. The test files run one at a time, so stopping the shared server stalls only this one.
const resume = () => {
  clearTimeout(safety);
  for (const pid of mariadbPids()) process.kill(pid, 'SIGCONT');
};
process.on('exit', resume);

// Stops MariaDB; it resumes after 8 s whatever happens, so a caller the bounds fail to free fails its
// timing assertion instead of hanging the suite.
let safety: NodeJS.Timeout | undefined;
function stop() {
  const pids = mariadbPids();
  assert.ok(pids.length > 0, 'no mariadbd to stall');
  stopProcesses(pids);
  clearTimeout(safety);
  safety = setTimeout(resume, 8000);
}

async function stalled<T>(during: () => Promise<T>): Promise<T> {
  stop();
  try {
    return await during();
  } finally {
    resume();
  }
}

/** A context with the bounds under test and two pool connections. */
const boundedContext = (process: 'restful' | 'service') =>
  createServiceContext(
    testConfig({
      ...ownRedis('mysql-stall'),
      QIANFAN_MYSQL__POOL_SIZE: '2',
      QIANFAN_MYSQL__LOCK_WAIT_TIMEOUT_SECONDS: '1',
      QIANFAN_MYSQL__STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
      QIANFAN_MYSQL__ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS),
    }),
    { process, mq: true, logger: testLogger },
  );

describe('a stalled MySQL (SIGSTOP) fails callers within mysql.statementTimeoutMs instead of holding them', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  before(async () => {
    ctx = await boundedContext('restful');
    app = await buildApp(ctx);
    await ctx.pool.query('CREATE TABLE IF NOT EXISTS test_stall_probe (id BIGINT PRIMARY KEY)');
  });
  after(async () => {
    resume();
    await ctx?.pool.query('DROP TABLE IF EXISTS test_stall_probe').catch(() => {});
    await app?.close();
    await ctx?.close();
  });

  it('a transaction whose statement is not answered fails once, within the bound, and is rolled back', async () => {
    const id = ctx.ids.next();
    const started = Date.now();
    const failed = await ctx.db
      .transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO test_stall_probe (id) VALUES (${id})`);
        stop(); // between two statements of the transaction
        await tx.execute(sql`SELECT id FROM test_stall_probe WHERE id = ${id}`);
      })
      .then(
        () => undefined,
        (err: unknown) => err,
      )
      .finally(resume);
    const ms = Date.now() - started;
    // drizzle wraps what a statement threw in its own query error; every transport unwraps it.
    const appError = appErrorIn(failed);
    assert.ok(appError, `expected an AppError, got ${String(failed)}`);
    assert.equal(appError.code, 'DEPENDENCY_UNAVAILABLE');
    assert.match(appError.message, /did not answer within 1500 ms/);
    assert.equal(isOutage(failed), true); // a consumer retries it as an outage
    // The ROLLBACK that follows fails at once on the closed connection: not a second wait.
    assert.ok(ms < STATEMENT_MS + 1000, `the transaction failed after ${ms} ms`);
    // The server rolled the INSERT back with the closed connection; the pool serves again.
    const [rows] = await waitFor('MySQL answering again', 10_000, () =>
      ctx.pool.query('SELECT COUNT(*) AS n FROM test_stall_probe WHERE id = ?', [String(id)]).catch(() => undefined),
    );
    assert.equal(Number((rows as Array<{ n: number }>)[0]!.n), 0);
  });

  it('order creation answers 503 within the bound; retries with the same keys create each order exactly once', async () => {
    const user = BigInt(Date.now()) * 1000n + 777_000n;
    const token = await signDevToken(ctx.config.auth, { userId: String(user), roles: ['user'] }, 600);
    const [sku] = await makeSkus(ctx, [{ price: 1500, available: 20 }]);
    const create = (key: string): InjectOptions => ({
      method: 'POST',
      url: '/v1/orders',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
      payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    const timed = async (opts: InjectOptions) => {
      const t = Date.now();
      const res = await app.inject(opts);
      return { res, ms: Date.now() - t };
    };
    assert.equal((await app.inject(create(randomUUID()))).statusCode, 201);

    // More requests than connections: two wait on their statements, the rest for a connection.
    const keys = Array.from({ length: 5 }, () => randomUUID());
    const { answers, ready } = await stalled(async () => ({
      answers: await Promise.all(keys.map((k) => timed(create(k)))),
      ready: await timed({ method: 'GET', url: '/readyz' }),
    }));
    for (const { res, ms } of answers) {
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().code, 'DEPENDENCY_UNAVAILABLE');
      assert.ok(Number(res.headers['retry-after']) > 0);
      assert.ok(ms < ACQUIRE_MS + STATEMENT_MS + 1000, `answered after ${ms} ms`);
    }
    assert.equal(ready.res.statusCode, 503, ready.res.body);
    assert.equal(ready.res.json().checks.mysql.ok, false);
    assert.ok(ready.ms < 2500, `readyz took ${ready.ms} ms`);

    // After the stall every key ends in one order. A key whose claim reached MySQL but was not answered
    // is IN_FLIGHT until the claim goes stale (internal/idempotency: 20 s); 409 until then.
    const created = new Map<string, string>();
    await waitFor(
      'every retried key to create its order',
      40_000,
      async () => {
        for (const k of keys.filter((k) => !created.has(k))) {
          const res = await app.inject(create(k));
          if (res.statusCode === 201) created.set(k, res.json().id as string);
          else assert.ok([409, 503].includes(res.statusCode), res.body);
        }
        return created.size === keys.length;
      },
      1000,
    );
    // The same keys again replay the same orders.
    for (const k of keys) {
      const res = await app.inject(create(k));
      assert.equal(res.statusCode, 201);
      assert.equal(res.json().id, created.get(k));
    }
    assert.equal(new Set(created.values()).size, keys.length);
    assert.equal((await ordersOfUser(ctx, user)).length, keys.length + 1);
    assert.equal((await stockOf(ctx, sku!)).available, 20 - (keys.length + 1));
  });
});

describe('gRPC during a MySQL stall', () => {
  let ctx: ServiceContext;
  let rpc: Awaited<ReturnType<typeof inProcessRpc>>;
  before(async () => {
    ctx = await boundedContext('service');
    rpc = await inProcessRpc(ctx);
  });
  after(async () => {
    resume();
    await rpc?.close();
    await ctx?.close();
  });

  it('CreateOrder answers UNAVAILABLE (DEPENDENCY_UNAVAILABLE) within the bound, then succeeds', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 900, available: 5 }]);
    const req = {
      requestId: randomUUID(),
      userId: String(BigInt(Date.now()) * 1000n + 778_000n),
      items: [{ skuId: String(sku), quantity: 1 }],
      address: { ...address, postcode: '' },
      note: '',
    };
    const t = Date.now();
    const { err } = await stalled(() => rpc.call('createOrder', req));
    const ms = Date.now() - t;
    assert.equal(err?.code, status.UNAVAILABLE, String(err));
    assert.equal(err?.metadata.get('error-code')[0], 'DEPENDENCY_UNAVAILABLE');
    assert.ok(ms < ACQUIRE_MS + STATEMENT_MS + 1000, `answered after ${ms} ms`);
    const done = await waitFor(
      'CreateOrder after the stall',
      40_000,
      async () => (await rpc.call('createOrder', req)).res,
      1000,
    );
    assert.equal(done.order.items.length, 1);
    assert.equal((await stockOf(ctx, sku!)).available, 4);
  });
});

// A slow MySQL, not a stalled one: every statement reaches it 300 ms late (a proxy in between), so each is
// answered within its own bound (1.5 s), yet a request that runs several in a row takes seconds.
describe('a slow MySQL: a request answers by its deadline however many slow statements it meets', () => {
  const DEADLINE_MS = 2500;
  let proxy: Awaited<ReturnType<typeof slowProxy>>;
  const slowMysql = () => {
    proxy.delayMs = 300;
    return () => {
      proxy.delayMs = 0;
    };
  };
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let unbounded: FastifyInstance;
  let rpc: Awaited<ReturnType<typeof inProcessRpc>>;
  before(async () => {
    proxy = await slowProxy(testConfig().mysql.port);
    ctx = await createServiceContext(
      testConfig({
        ...ownRedis('mysql-slow'),
        QIANFAN_MYSQL__PORT: String(proxy.port),
        QIANFAN_MYSQL__LOCK_WAIT_TIMEOUT_SECONDS: '1',
        QIANFAN_MYSQL__STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
        QIANFAN_MYSQL__ACQUIRE_TIMEOUT_MS: String(STATEMENT_MS),
        QIANFAN_HTTP__REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        QIANFAN_GRPC__REQUEST_DEADLINE_MS: String(DEADLINE_MS),
        // The production bound on an order's transaction (config/test.yaml shortens it to 3 s).
        QIANFAN_ROCKETMQ__LOCAL_TX_MAX_MS: '10000',
        QIANFAN_ROCKETMQ__TX_ROLLBACK_AFTER_MS: '60000',
      }),
      { process: 'restful', mq: true, logger: testLogger },
    );
    app = await buildApp(ctx);
    // The same service with the deadline off: shows what the deadline saves a caller.
    unbounded = await buildApp({
      ...ctx,
      config: { ...ctx.config, http: { ...ctx.config.http, requestDeadlineMs: 0 } },
    });
    rpc = await inProcessRpc(ctx);
  });
  after(async () => {
    await rpc?.close();
    await unbounded?.close();
    await app?.close();
    await ctx?.close();
    await proxy?.close();
  });

  it('POST /v1/orders answers 503 DEPENDENCY_UNAVAILABLE by http.requestDeadlineMs, and writes nothing partial; without the deadline it takes longer', async () => {
    const user = BigInt(Date.now()) * 1000n + 779_000n;
    const token = await signDevToken(ctx.config.auth, { userId: String(user), roles: ['user'] }, 600);
    const [sku] = await makeSkus(ctx, [{ price: 1200, available: 20 }]);
    const create = (): InjectOptions => ({
      method: 'POST',
      url: '/v1/orders',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': randomUUID() },
      payload: { items: [{ skuId: String(sku), quantity: 1 }], address },
    });
    const timed = async (on: FastifyInstance) => {
      const t = Date.now();
      const res = await on.inject(create());
      return { res, ms: Date.now() - t };
    };
    assert.equal((await app.inject(create())).statusCode, 201); // warm: connections open
    const end = slowMysql();
    let answers: Array<Awaited<ReturnType<typeof timed>>>;
    let control: Awaited<ReturnType<typeof timed>>;
    try {
      answers = await Promise.all([timed(app), timed(app), timed(app)]);
      control = await timed(unbounded);
    } finally {
      end();
    }
    for (const { res, ms } of answers) {
      assert.equal(res.statusCode, 503, res.body);
      assert.equal(res.json().code, 'DEPENDENCY_UNAVAILABLE');
      assert.match(res.json().message, /deadline/);
      assert.ok(Number(res.headers['retry-after']) > 0);
      assert.ok(ms < DEADLINE_MS + 700, `answered after ${ms} ms`);
    }
    // The deadline is what ended them: each statement alone stayed within its bound.
    assert.equal(control.res.statusCode, 201, control.res.body);
    assert.ok(control.ms > DEADLINE_MS, `without the deadline the order took only ${control.ms} ms`);
    // Nothing partial: every order that exists is whole, and the stock taken matches them.
    const orders = await waitFor('MySQL answering again', 10_000, () => ordersOfUser(ctx, user).catch(() => undefined));
    assert.equal((await stockOf(ctx, sku!)).available, 20 - orders.length);
  });

  it('gRPC CreateOrder answers UNAVAILABLE by grpc.requestDeadlineMs', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 900, available: 5 }]);
    const req = () => ({
      requestId: randomUUID(),
      userId: String(BigInt(Date.now()) * 1000n + 780_000n),
      items: [{ skuId: String(sku), quantity: 1 }],
      address: { ...address, postcode: '' },
      note: '',
    });
    assert.ok((await rpc.call('createOrder', req())).res); // warm
    const end = slowMysql();
    const t = Date.now();
    let err: Awaited<ReturnType<typeof rpc.call>>['err'];
    try {
      ({ err } = await rpc.call('createOrder', req()));
    } finally {
      end();
    }
    const ms = Date.now() - t;
    assert.equal(err?.code, status.UNAVAILABLE, String(err));
    assert.equal(err?.metadata.get('error-code')[0], 'DEPENDENCY_UNAVAILABLE');
    assert.ok(ms < DEADLINE_MS + 700, `answered after ${ms} ms`);
  });
});

describe('the request deadline binds the request only', () => {
  it('a MySQL wait inside a request ends at its deadline; work the request left behind runs unbounded by it after the answer', async () => {
    const ctx = await createServiceContext(testConfig(), { process: 'restful', logger: testLogger });
    const app = Fastify();
    installRequestDeadline(app, 200);
    let leftBehind: Promise<unknown> | undefined;
    app.get('/late-query', async () => {
      await sleep(300); // past the 200 ms deadline
      await ctx.pool.query('SELECT 1');
      return 'answered';
    });
    app.get('/timer', async () => {
      // A timer set while handling the request runs in its context, after the deadline has passed.
      leftBehind = sleep(400).then(() => ctx.pool.query('SELECT 1'));
      return 'answered';
    });
    try {
      const late = await app.inject({ method: 'GET', url: '/late-query' });
      assert.equal(late.statusCode, 500); // a bare app: the AppError is not mapped here
      assert.match(late.body, /deadline passed/);
      assert.equal((await app.inject({ method: 'GET', url: '/timer' })).body, 'answered');
      await leftBehind; // would reject with "the request's deadline passed" were it still bound
    } finally {
      await app.close();
      await ctx.close();
    }
  });
});

describe('a MySQL the service cannot reach', () => {
  it('a refused or timed-out connection, even wrapped by drizzle, reaches callers as DEPENDENCY_UNAVAILABLE (503 / UNAVAILABLE), not INTERNAL', async () => {
    // A real mysql2 pool, through drizzle, pointed at a port nobody listens on: ECONNREFUSED, as while
    // MySQL restarts.
    const pool = mysql.createPool({ host: '127.0.0.1', port: 1, user: 'root', connectTimeout: 1000 });
    try {
      const refused = await drizzle(pool)
        .execute(sql`SELECT 1`)
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      assert.ok(refused, 'the query must fail');
      assert.equal(appErrorIn(refused), undefined, 'the driver error itself, as drizzle throws it');
      assert.equal(toAppError(refused).code, 'DEPENDENCY_UNAVAILABLE');
      assert.equal(toServiceError(refused).error.code, status.UNAVAILABLE);
    } finally {
      await pool.end();
    }
    // The connect timeout a pool meets while MySQL is stalled (500 INTERNAL through nginx before).
    const timedOut = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT', fatal: true });
    assert.equal(toAppError(timedOut).code, 'DEPENDENCY_UNAVAILABLE');
    assert.equal(toAppError(new Error('a bug')).code, 'INTERNAL');
  });
});
