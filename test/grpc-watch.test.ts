import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { markDelivered, shipOrder } from '../internal/delivery/index.js';
import { createOrder } from '../internal/order/index.js';
import { applyPaymentResult, startPayment } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import {
  OrderServiceClient as GeneratedClient,
  OrderStatus,
  type WatchOrderResponse,
} from '../pkg/gen/qianfan/order/v1/order.js';
import { OrderClient, OrderServiceError } from '../pkg/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

const config = testConfig();
const portOf = (n: number) => config.grpc.port + 20 + n;

function startService(n: number): Proc {
  return startProcess('service/main.ts', [], {
    QIANFAN_GRPC__PORT: String(portOf(n)),
    QIANFAN_ADMIN__SERVICE_PORT: String(config.admin.servicePort + 20 + n),
    QIANFAN_SERVICE__INSTANCE: String(20 + n),
    QIANFAN_GRPC__WATCH_STREAMS_PER_USER: '2',
    // Far enough that only the Redis notice can deliver a change within a second.
    QIANFAN_GRPC__WATCH_HEARTBEAT_MS: '4000',
  });
}

interface Seen {
  version: number;
  status: OrderStatus;
  previous: OrderStatus;
  at: number;
}

/** Collects a pkg watch until aborted. */
function collect(client: OrderClient, req: { orderId: string; userId?: string; afterVersion?: number }) {
  const seen: Seen[] = [];
  const abort = new AbortController();
  const done = (async () => {
    for await (const c of client.watchOrder(req, { signal: abort.signal, idleMs: 10_000 })) {
      seen.push({ version: c.version, status: c.status, previous: c.previousStatus, at: Date.now() });
    }
  })();
  return { seen, stop: () => abort.abort(), done };
}

// gRPC WatchOrder against real service processes found through etcd, with pkg's OrderClient: every
// version once and in order, within a second of the commit; across kill -9 and SIGTERM of the instance
// a stream is on, it resumes on the other one with no version missed or repeated.
describe('gRPC WatchOrder (real service processes, etcd, MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let client: OrderClient;
  const procs: Proc[] = [];
  let sku: bigint;
  const buyer = BigInt(Date.now()) * 1000n + 620_000n;

  before(async () => {
    ctx = await createServiceContext(config, { process: 'script', mq: true, logger: testLogger });
    [sku] = (await makeSkus(ctx, [{ price: 880, available: 50 }])) as [bigint];
    procs.push(startService(1), startService(2));
    client = await OrderClient.connect({
      etcdHosts: config.etcd.endpoints,
      prefix: config.etcd.prefix,
      serviceToken: config.grpc.serviceTokens[0]!.token,
    });
    await waitFor('both instances in etcd', 30_000, () =>
      [1, 2].every((n) => client.instances().includes(`${config.grpc.advertiseHost}:${portOf(n)}`)),
    );
  });
  after(async () => {
    await client?.close();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await ctx?.close();
  });

  const newOrder = async () =>
    (await createOrder(ctx, { userId: buyer, items: [{ skuId: sku, quantity: 1 }], address })).order;
  const pay = async (orderId: bigint) => {
    const { payment } = await startPayment(ctx, { orderId, userId: buyer });
    await applyPaymentResult(ctx, {
      paymentId: payment.id,
      status: 'SUCCEEDED',
      amount: payment.amount,
      currency: 'CNY',
      providerTxnId: `watch-${payment.id}`,
    });
  };
  /** The instance a single open stream is on (the balancer counts it in flight). */
  const streamInstance = () => {
    const busy = client.stats().filter((s) => s.inflight > 0);
    return busy.length === 1 ? busy[0]!.address : undefined;
  };
  const procAt = (address: string) => procs.find((_p, i) => address.endsWith(`:${portOf(i + 1)}`))!;

  it('sends every version once and in order, within a second of the commit, across kill -9 and SIGTERM of its instance', async () => {
    const order = await newOrder();
    const w = collect(client, { orderId: String(order.id), userId: String(buyer) });
    try {
      await waitFor('the creation', 10_000, () => w.seen.length === 1, 20);
      assert.deepEqual(
        [w.seen[0]!.version, w.seen[0]!.status, w.seen[0]!.previous],
        [order.version, OrderStatus.PENDING_PAYMENT, OrderStatus.UNSPECIFIED],
      );
      const paidAt = Date.now();
      await pay(order.id);
      await waitFor('PAID', 5000, () => w.seen.length === 2, 10);
      const lag = w.seen[1]!.at - paidAt;
      assert.equal(w.seen[1]!.status, OrderStatus.PAID);
      assert.ok(lag < 1000, `PAID arrived ${lag} ms after the commit`);

      // kill -9 of the instance the stream is on; the order ships meanwhile.
      const first = await waitFor('the stream on one instance', 5000, streamInstance);
      procAt(first).child.kill('SIGKILL');
      await shipOrder(ctx, {
        orderId: order.id,
        carrier: 'YTO',
        trackingNo: `W${order.id}`,
        actor: { type: 'ADMIN', id: '9' },
      });
      await waitFor('SHIPPED after kill -9', 15_000, () => w.seen.length === 3, 20);
      assert.equal(w.seen[2]!.status, OrderStatus.SHIPPED);
      const second = await waitFor('the stream on the other instance', 5000, streamInstance);
      assert.notEqual(second, first);

      // The killed instance comes back; SIGTERM of the one the stream is on now: it ends the stream
      // (UNAVAILABLE) and the client resumes on the other.
      const back = startService(first.endsWith(`:${portOf(1)}`) ? 1 : 2);
      procs[procs.indexOf(procAt(first))] = back;
      await waitFor('the instance back in etcd', 30_000, () => client.instances().includes(first));
      await sleep(500);
      const { code } = await stopWithin(procAt(second), 10_000);
      assert.equal(code, 0, 'the service did not stop cleanly with a stream open');
      await markDelivered(ctx, { orderId: order.id, actor: { type: 'SYSTEM', id: 'test' } });
      await waitFor('DELIVERED after SIGTERM', 15_000, () => w.seen.length === 4, 20);
      assert.deepEqual(
        w.seen.map((s) => s.status),
        [OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED],
      );
      assert.deepEqual(
        w.seen.map((s) => s.version),
        [order.version, order.version + 1, order.version + 2, order.version + 3],
      );
      procs.push(startService(second.endsWith(`:${portOf(1)}`) ? 1 : 2));
    } finally {
      w.stop();
      await w.done;
    }
  });

  it('resumes after a version, sends heartbeats, and refuses another buyer, a bad request and a watch over the cap', async () => {
    await waitFor('both instances in etcd', 30_000, () =>
      [1, 2].every((n) => client.instances().includes(`${config.grpc.advertiseHost}:${portOf(n)}`)),
    );
    const order = await newOrder();
    await pay(order.id);
    const resumed = collect(client, { orderId: String(order.id), userId: String(buyer), afterVersion: order.version });
    await waitFor('the version after the one given', 10_000, () => resumed.seen.length === 1, 20);
    assert.equal(resumed.seen[0]!.status, OrderStatus.PAID);
    resumed.stop();
    await resumed.done;

    // The raw stream: heartbeats while nothing changes.
    const raw = new GeneratedClient(`127.0.0.1:${portOf(1)}`, credentials.createInsecure());
    const md = new Metadata();
    md.set('x-service-token', config.grpc.serviceTokens[0]!.token);
    const beats: WatchOrderResponse[] = [];
    const stream = raw.watchOrder({ orderId: String(order.id), userId: '', afterVersion: 1_000_000 }, md);
    stream.on('data', (m: WatchOrderResponse) => beats.push(m));
    stream.on('error', () => {});
    await waitFor('a heartbeat', 10_000, () => beats.length > 0, 50);
    assert.equal(beats[0]!.heartbeat, true);
    stream.cancel();

    const refused = async (req: { orderId: string; userId?: string }, grpcCode: status, code: string) => {
      const it = client.watchOrder(req)[Symbol.asyncIterator]();
      await assert.rejects(
        it.next(),
        (e: unknown) => e instanceof OrderServiceError && e.grpcCode === grpcCode && e.code === code,
      );
    };
    await refused({ orderId: String(order.id), userId: '1' }, status.NOT_FOUND, 'ORDER_NOT_FOUND');
    await refused({ orderId: 'x1' }, status.INVALID_ARGUMENT, 'VALIDATION_FAILED');
    // The cap is per instance: two more streams of the buyer on the same instance; the third is refused.
    const other = new GeneratedClient(`127.0.0.1:${portOf(1)}`, credentials.createInsecure());
    const open = [0, 1].map(() =>
      other.watchOrder({ orderId: String(order.id), userId: String(buyer), afterVersion: 0 }, md),
    );
    for (const s of open) s.on('error', () => {});
    await sleep(500);
    const third = other.watchOrder({ orderId: String(order.id), userId: String(buyer), afterVersion: 0 }, md);
    const err = await new Promise<ServiceError>((resolve) => third.on('error', resolve));
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.equal(err.metadata.get('error-code')[0], 'TOO_MANY_STREAMS');
    for (const s of open) s.cancel();
    raw.close();
    other.close();
  });
});
