import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { topics } from '../internal/mq/index.js';
import { orderEventType } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { ORDER_EVENT_TYPES, OrderClient, OrderServiceError, TOPICS } from '../pkg/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

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

  it('publishes the same topic and event type names as the service', () => {
    assert.equal(TOPICS.orderEvent, topics.orderEvent.name);
    assert.deepEqual(Object.values(ORDER_EVENT_TYPES).sort(), Object.values(orderEventType).sort());
  });
});
