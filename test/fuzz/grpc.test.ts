import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import fc from 'fast-check';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { buildServer } from '../../service/server.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';
import { address, makeSkus } from '../helpers/orders.js';
import { writeFingerprint } from './fingerprint.js';
import { hostileString } from './hostile.js';
import { fuzzSeed } from './seed.js';

/**
 * Messages generated from the proto's descriptors for every OrderService method, sent to the real
 * server (MariaDB, Redis, RocketMQ): hostile strings, boundary and out-of-range numbers, unknown enum
 * values, ids of other users, missing and wrong service tokens. GRPC_FUZZ_RUNS (default 3,000) and
 * FUZZ_SEED reproduce a run.
 */
const RUNS = Number(process.env.GRPC_FUZZ_RUNS ?? 3_000);
const SEED = fuzzSeed(623_736_564);
const PROTO = fileURLToPath(new URL('../../pkg/proto/qianfan/order/v1/order.proto', import.meta.url));
const INCLUDE = fileURLToPath(new URL('../../pkg/proto', import.meta.url));

/** Codes a correct server answers with: a refusal the caller can act on, never INTERNAL or UNKNOWN. */
const EXPECTED = new Set([
  status.OK,
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.RESOURCE_EXHAUSTED,
]);

interface Field {
  name: string;
  type: string;
  label: string;
  typeName: string;
}

describe(`gRPC fuzz: ${RUNS} calls generated from the proto (seed ${SEED})`, () => {
  let ctx: ServiceContext;
  let rpc: ReturnType<typeof buildServer>;
  let client: any;
  const token = testConfig().grpc.serviceTokens[0]!.token;
  const fx = { user: '', other: '', skus: [] as string[], orders: [] as string[], otherOrders: [] as string[] };
  const def = loadSync(PROTO, { includeDirs: [INCLUDE], longs: String, enums: Number, defaults: false });

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'service', mq: true, logger: testLogger });
    rpc = buildServer(ctx);
    const port = await rpc.listen('127.0.0.1', 0);
    const Service = (loadPackageDefinition(def) as any).qianfan.order.v1.OrderService;
    client = new Service(`127.0.0.1:${port}`, credentials.createInsecure());
    const base = BigInt(Date.now()) * 1000n + 600_000n;
    fx.user = String(base + 1n);
    fx.other = String(base + 2n);
    fx.skus = (await makeSkus(ctx, [{ price: 300, available: 1_000_000 }])).map(String);
    for (const [user, list] of [
      [fx.user, fx.orders],
      [fx.user, fx.orders],
      [fx.other, fx.otherOrders],
    ] as const) {
      const res: any = await call('CreateOrder', {
        requestId: randomUUID(),
        userId: user,
        items: [{ skuId: fx.skus[0], quantity: 1 }],
        address,
      });
      list.push(res.order.id);
    }
  });
  after(async () => {
    client?.close();
    await rpc?.shutdown(1000);
    await ctx?.close();
  });

  function call(method: string, req: object, md = withToken(token)): Promise<unknown> {
    const service = def['qianfan.order.v1.OrderService'] as any as Record<string, { responseStream: boolean }>;
    if (service[method]?.responseStream) return watch(method, req, md);
    return new Promise((resolve, reject) =>
      client[method](req, md, { deadline: Date.now() + 15_000 }, (err: ServiceError | null, res: unknown) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }
  /**
   * A server stream (WatchOrder): accepted when its headers arrive (the service sends them as soon as the
   * watch is admitted) with no error right after, or its error. Refusals come before the headers.
   */
  function watch(method: string, req: object, md: Metadata): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const stream = client[method](req, md, { deadline: Date.now() + 15_000 });
      let timer: NodeJS.Timeout | undefined;
      stream.on('data', () => {});
      stream.once('metadata', () => {
        timer = setTimeout(() => {
          stream.removeAllListeners('error');
          stream.on('error', () => {});
          stream.cancel();
          resolve(undefined);
        }, 100);
      });
      stream.once('error', (err: ServiceError) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }
  function withToken(t: string | undefined) {
    const m = new Metadata();
    if (t !== undefined) m.set('x-service-token', t);
    return m;
  }

  const camel = (s: string) => s.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
  const typeOf = (name: string) => {
    const bare = name.replace(/^\./, '');
    const found = (def[bare] ?? def[`qianfan.order.v1.${bare}`]) as any;
    if (!found) throw new Error(`no message type ${name} in the proto`);
    return found.type;
  };

  /** Each field: mostly a plausible value, sometimes a hostile one, sometimes absent. */
  function messageArb(typeName: string, depth = 0): fc.Arbitrary<Record<string, unknown>> {
    if (typeName.endsWith('.Address')) {
      return fc.oneof({ weight: 4, arbitrary: fc.constant({ ...address }) }, fieldsArb(typeName, depth));
    }
    return fieldsArb(typeName, depth);
  }

  function fieldsArb(typeName: string, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const fields: Field[] = typeOf(typeName).field;
    const model: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of fields) {
      const one = fc.oneof({ weight: 6, arbitrary: plausible(f, depth) }, { weight: 1, arbitrary: hostile(f, depth) });
      const many = fc.oneof(
        { weight: 5, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) },
        { weight: 1, arbitrary: fc.array(one, { maxLength: depth > 0 ? 2 : 60 }) },
      );
      const value = f.label === 'LABEL_REPEATED' ? many : one;
      model[camel(f.name)] = fc.option(value, { freq: 8, nil: undefined });
    }
    return fc.record(model).map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)));
  }

  function plausible(f: Field, depth: number): fc.Arbitrary<unknown> {
    const byName: Record<string, fc.Arbitrary<unknown>> = {
      order_id: fc.constantFrom(...fx.orders, ...fx.otherOrders),
      user_id: fc.constantFrom(fx.user, fx.other),
      sku_id: fc.constantFrom(...fx.skus),
      payment_id: fc.stringMatching(/^[1-9]\d{0,18}$/),
      request_id: fc.uuid(),
      quantity: fc.integer({ min: 1, max: 3 }),
      limit: fc.integer({ min: 1, max: 50 }),
      status: f.type === 'TYPE_STRING' ? fc.constantFrom('SUCCEEDED', 'FAILED') : fc.integer({ min: 0, max: 9 }),
      amount: fc.constantFrom('300', '600'),
      currency: fc.constant('CNY'),
      provider: fc.constant('sandbox'),
      reason: fc.constantFrom('USER', 'ADMIN', 'damaged in transit'),
    };
    const snake = f.name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    if (byName[snake]) return byName[snake]!;
    switch (f.type) {
      case 'TYPE_STRING':
        return fc.stringMatching(/^[A-Za-z0-9 ]{1,20}$/);
      case 'TYPE_INT32':
        return fc.integer({ min: 0, max: 100 });
      case 'TYPE_INT64':
      case 'TYPE_UINT64':
        return fc.integer({ min: 0, max: 10_000 }).map(String);
      case 'TYPE_ENUM':
        return fc.integer({ min: 0, max: 9 });
      default:
        return hostile(f, depth);
    }
  }

  function hostile(f: Field, depth: number): fc.Arbitrary<unknown> {
    switch (f.type) {
      case 'TYPE_STRING':
        return fc.oneof(fc.stringMatching(/^[1-9]\d{0,19}$/), hostileString);
      case 'TYPE_INT32':
        return fc.oneof(fc.integer({ min: -5, max: 1000 }), fc.constantFrom(0, -1, 2 ** 31 - 1, -(2 ** 31)));
      case 'TYPE_INT64':
      case 'TYPE_UINT64':
        return fc.oneof(
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
          fc.constantFrom('0', '-1', '9223372036854775807', '-9223372036854775808'),
        );
      case 'TYPE_BOOL':
        return fc.boolean();
      case 'TYPE_ENUM':
        return fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(-1, 2 ** 31 - 1));
      case 'TYPE_MESSAGE':
        if (f.typeName.endsWith('google.protobuf.Timestamp'))
          return fc.record({
            seconds: fc.oneof(fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }).map(String), fc.constant('0')),
            nanos: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
          });
        return depth > 2 ? fc.constant(undefined) : messageArb(f.typeName, depth + 1);
      default:
        return fc.constant(undefined);
    }
  }

  it('answers every generated call with an expected status and an error-code, writing nothing when it refuses', async (t) => {
    const service = def['qianfan.order.v1.OrderService'] as any as Record<
      string,
      { requestType: { type: { name: string } } }
    >;
    const methods = Object.keys(service);
    assert.ok(methods.length >= 10, `methods: ${methods.join(', ')}`);
    const arb = fc.constantFrom(...methods).chain((m) =>
      fc.record({
        method: fc.constant(m),
        req: messageArb(`qianfan.order.v1.${service[m]!.requestType.type.name}`),
        token: fc.oneof(
          { weight: 8, arbitrary: fc.constant<string | undefined>(token) },
          fc.constantFrom<string | undefined>(undefined, '', 'wrong-token', `${token} `, 'x'.repeat(5000)),
        ),
      }),
    );
    const counts = new Map<string, number>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ({ method, req, token: tk }) => {
        const before = await writeFingerprint(ctx, '0');
        let code: status = status.OK;
        let err: ServiceError | undefined;
        try {
          await call(method, req, withToken(tk));
        } catch (e) {
          err = e as ServiceError;
          code = err.code;
        }
        n++;
        const key = `${method} ${status[code]}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (process.env.FUZZ_DEBUG) console.log(key, err?.details, JSON.stringify(req).slice(0, 300));
        const where = `${method}(${JSON.stringify(req).slice(0, 400)}) token=${String(tk).slice(0, 20)} → ${status[code]} ${err?.details ?? ''}`;
        assert.ok(EXPECTED.has(code), `unexpected status: ${where}`);
        if (tk !== token) assert.equal(code, status.UNAUTHENTICATED, where);
        if (err) {
          assert.match(String(err.metadata.get('error-code')[0] ?? ''), /^[A-Z][A-Z0-9_]*$/, `no error-code: ${where}`);
          assert.deepEqual(await writeFingerprint(ctx, '0'), before, `a refused call wrote: ${where}`);
        }
        const r = req as { userId?: string; orderId?: string };
        if (!err && r.userId === fx.user && fx.otherOrders.includes(r.orderId ?? '')) {
          assert.fail(`another user's order: ${where}`);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    const still: any = await call('GetOrder', { orderId: fx.orders[0], userId: fx.user });
    assert.equal(still.order.id, fx.orders[0]);
    t.diagnostic(`seed ${SEED}: ${n} calls over ${methods.length} methods`);
    t.diagnostic(
      [...counts]
        .sort()
        .map(([k, v]) => `${k}: ${v}`)
        .join(', '),
    );
  });
});
