import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { afterSaleEventType } from '../internal/aftersale/index.js';
import { topics } from '../internal/mq/index.js';
// orderEnvelope builds an event from an order row (not part of the module's public surface).
import { orderEnvelope } from '../internal/order/events.js';
import { AMENDMENT_EVENTS, ORDER_CREATED_BATCH, orderCreatedBatch, orderEventType } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import {
  AFTER_SALE_EVENT_TYPES,
  ORDER_CREATED_BATCH_TYPE,
  ORDER_EVENT_TYPES,
  OrderClient,
  OrderServiceError,
  parseOrderEvent,
  parseOrderEvents,
  TOPICS,
} from '../pkg/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

const config = testConfig();

function startService(n: number): Proc {
  return startProcess('service/main.ts', [], {
    QIANFAN_GRPC__PORT: String(config.grpc.port + 10 + n),
    QIANFAN_ADMIN__SERVICE_PORT: String(config.admin.servicePort + 10 + n),
    QIANFAN_SERVICE__INSTANCE: String(10 + n),
  });
}

// What another service does: pkg/ only, finding instances of the real service process through etcd.
describe('pkg: OrderClient with etcd discovery, and the event catalog', () => {
  let ctx: ServiceContext;
  const procs: Proc[] = [];
  let client: OrderClient;
  before(async () => {
    ctx = await createServiceContext(config, { process: 'script', logger: testLogger });
  });
  after(async () => {
    await client?.close();
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await ctx?.close();
  });

  it('finds instances as they come and go, and calls the one that is up', async () => {
    procs.push(startService(1));
    client = await OrderClient.connect({
      etcdHosts: config.etcd.endpoints,
      prefix: config.etcd.prefix,
      serviceToken: config.grpc.serviceTokens[0]!.token,
    });
    const a = `${config.grpc.advertiseHost}:${config.grpc.port + 11}`;
    const b = `${config.grpc.advertiseHost}:${config.grpc.port + 12}`;
    await waitFor('instance 1 in etcd', 30_000, () => client.instances().includes(a));
    const [sku] = await makeSkus(ctx, [{ price: 1200, available: 5 }]);
    // A JavaScript caller leaves optional fields out or undefined (postcode, note): they are absent, not invalid.
    const created = await client.createOrder({
      requestId: randomUUID(),
      userId: '4242',
      items: [{ skuId: String(sku), quantity: 1 }],
      address: { ...address, postcode: undefined },
    });
    assert.equal(created.order?.totalAmount, '1200');
    assert.equal(created.order?.address?.postcode, '');
    assert.equal(created.order?.note, '');
    procs.push(startService(2));
    await waitFor('instance 2 in etcd', 30_000, () => client.instances().includes(b));
    const { code } = await stopWithin(procs[0]!, 10_000);
    assert.equal(code, 0);
    await waitFor('instance 1 gone from the client', 10_000, () => !client.instances().includes(a));
    for (let i = 0; i < 3; i++) {
      const got = await client.getOrder({ orderId: created.order!.id, userId: '4242' });
      assert.equal(got.order?.id, created.order?.id);
    }
    await assert.rejects(
      client.getOrder({ orderId: created.order!.id, userId: '1' }),
      (e: unknown) => e instanceof OrderServiceError && e.code === 'ORDER_NOT_FOUND',
    );
    await stopWithin(procs[1]!, 10_000);
    await waitFor('no instances left', 10_000, () => client.instances().length === 0);
    await assert.rejects(
      client.getOrder({ orderId: '1', userId: '' }),
      (e: unknown) => e instanceof OrderServiceError && e.code === 'NO_INSTANCES',
    );
  });

  it('spreads calls over two instances; kill -9 of one under load fails no call, a stalled one fails only its calls in flight', async () => {
    const a = startService(3);
    const b = startService(4);
    procs.push(a, b);
    const addrA = `${config.grpc.advertiseHost}:${config.grpc.port + 13}`;
    const addrB = `${config.grpc.advertiseHost}:${config.grpc.port + 14}`;
    const lb = await OrderClient.connect({
      etcdHosts: config.etcd.endpoints,
      prefix: config.etcd.prefix,
      serviceToken: config.grpc.serviceTokens[0]!.token,
      deadlineMs: 2000,
    });
    try {
      await waitFor(
        'both instances in etcd',
        30_000,
        () => lb.instances().includes(addrA) && lb.instances().includes(addrB),
      );
      const [sku] = await makeSkus(ctx, [{ price: 500, available: 100_000 }]);
      const made = await lb.createOrder({
        requestId: randomUUID(),
        userId: '5151',
        items: [{ skuId: String(sku), quantity: 1 }],
        address,
      });
      const orderId = made.order!.id;
      const picked = (addr: string) => lb.stats().find((s) => s.address === addr)?.picked ?? 0;
      // 12 callers reading and 2 creating, until stopped; every failure is kept.
      const failures: string[] = [];
      let calls = 0;
      let running = true;
      const loop = async (create: boolean) => {
        while (running) {
          try {
            if (create)
              await lb.createOrder({
                requestId: randomUUID(),
                userId: '5151',
                items: [{ skuId: String(sku), quantity: 1 }],
                address,
              });
            else await lb.getOrder({ orderId, userId: '5151' });
            calls++;
          } catch (err) {
            failures.push(`${(err as OrderServiceError).code}: ${(err as Error).message}`);
          }
          await sleep(2);
        }
      };
      const loops = [...Array.from({ length: 12 }, () => loop(false)), loop(true), loop(true)];
      await sleep(3000);
      const [pa, pb] = [picked(addrA), picked(addrB)];
      assert.ok(pa > (pa + pb) * 0.2 && pb > (pa + pb) * 0.2, `spread: ${pa} / ${pb}`);
      assert.equal(failures.length, 0, failures.join('; '));

      // kill -9 of A: calls in flight there are retried on B; A is ejected, then dropped when its lease ends.
      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      const atKill = picked(addrA);
      // Calls sent to A after the kill, counted until the client drops it.
      let afterKill = atKill;
      await waitFor(
        'A gone from the client (its etcd lease ended)',
        config.etcd.leaseTtlSeconds * 1000 + 5000,
        () => {
          if (!lb.instances().includes(addrA)) return true;
          afterKill = Math.max(afterKill, picked(addrA));
          return false;
        },
        20,
      );
      const goneMs = Date.now() - killedAt;
      await sleep(500);
      assert.equal(failures.length, 0, `a call failed while an instance was killed: ${failures.join('; ')}`);
      const killStats = { calls, picksOfTheDeadInstance: afterKill - atKill, goneMs };

      // B alone serves; A comes back (same instance id: its claim's holder is dead) and takes a share again.
      const a2 = startService(3);
      procs.push(a2);
      await waitFor('A back in etcd', 30_000, () => lb.instances().includes(addrA));
      await sleep(2000);
      assert.ok(picked(addrA) > 50, `A got ${picked(addrA)} calls after it came back`);

      // SIGSTOP of B: calls already in flight there run out of time (the only failures); new calls go to A.
      const beforeStall = calls;
      b.child.kill('SIGSTOP');
      const stalledAt = picked(addrB);
      await sleep(6000);
      const stallPicks = picked(addrB) - stalledAt;
      const stallFailures = failures.length;
      b.child.kill('SIGCONT');
      await sleep(1000);
      running = false;
      await Promise.all(loops);
      console.log(
        JSON.stringify({
          ...killStats,
          callsDuringStall: calls - beforeStall,
          stallPicks,
          stallFailures,
          total: calls,
        }),
      );
      assert.ok(
        failures.every((f) => f.startsWith('DEADLINE_EXCEEDED')),
        `only deadlines may fail: ${failures.slice(0, 3)}`,
      );
      // At most the 14 callers' calls in flight at the stall, plus a probe per 2 s deadline.
      assert.ok(stallFailures <= 14 + 4, `${stallFailures} calls failed during the stall`);
      assert.ok(calls - beforeStall > 500, `only ${calls - beforeStall} calls succeeded during the stall`);
      assert.ok(killStats.picksOfTheDeadInstance <= 14 + 6, JSON.stringify(killStats));
    } finally {
      for (const p of procs) p.child.kill('SIGCONT');
      await lb.close();
    }
  });

  it('publishes the same topic and event type names as the service', () => {
    assert.equal(TOPICS.orderEvent, topics.orderEvent.name);
    assert.deepEqual(
      Object.values(ORDER_EVENT_TYPES).sort(),
      [...Object.values(orderEventType), ...Object.values(AMENDMENT_EVENTS)].sort(),
    );
    assert.equal(ORDER_CREATED_BATCH_TYPE, ORDER_CREATED_BATCH);
    assert.deepEqual(Object.values(AFTER_SALE_EVENT_TYPES).sort(), Object.values(afterSaleEventType).sort());
  });

  it("reads both shapes of order_event: one event, or a batch's events (each with its own event id)", () => {
    const row = (n: number) =>
      ({
        id: BigInt(1000 + n),
        orderNo: `QF${n}`,
        userId: 7n,
        totalAmount: 100,
        currency: 'CNY',
        source: 'FLASHSALE',
      }) as unknown as Parameters<typeof orderEnvelope>[0];
    const single = orderEnvelope(row(1), 'PENDING_PAYMENT', null, 0, 'created');
    const batch = orderCreatedBatch(
      [1, 2, 3].map((n) => orderEnvelope(row(n), 'PENDING_PAYMENT', null, 0, 'created')),
      'flashsale:1',
    );
    const body = (e: unknown) => Buffer.from(JSON.stringify(e));
    assert.deepEqual(
      parseOrderEvents(body(single.envelope)).map((e) => e.eventId),
      [single.envelope.eventId],
    );
    assert.equal(parseOrderEvent(body(single.envelope)).data.orderId, '1001');
    const inner = parseOrderEvents(body(batch.envelope));
    assert.deepEqual(
      inner.map((e) => [e.type, e.data.orderId, e.data.version]),
      [
        ['order.created', '1001', 0],
        ['order.created', '1002', 0],
        ['order.created', '1003', 0],
      ],
    );
    assert.equal(new Set(inner.map((e) => e.eventId)).size, 3);
    assert.notEqual(batch.envelope.eventId, inner[0]!.eventId);
    // The batch travels with the tag order.created, keys = its orders, so tag filters and key lookups find it.
    assert.equal(batch.tag, 'order.created');
    assert.deepEqual(batch.keys, ['1001', '1002', '1003']);
    assert.throws(() => parseOrderEvent(body(batch.envelope)), /parseOrderEvents/);
    assert.throws(() => parseOrderEvents(body({ ...batch.envelope, data: {} })), /without data.events/);
    assert.throws(() => parseOrderEvents(body({ schemaVersion: 1, eventId: 'x', type: 'order.paid', data: {} })));
  });
});
