import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { credentials, loadPackageDefinition, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import {
  type CancelOrderResponse,
  type CreateOrderResponse,
  type GetOrderResponse,
  type ListOrdersResponse,
  type Order,
  OrderServiceClient,
  OrderStatus,
} from '../pkg/gen/qianfan/order/v1/order.js';
import { buildServer } from '../service/server.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, ordersOfUser } from './helpers/orders.js';

let nextUser = BigInt(Date.now()) * 1000n + 800_000n;

// The real gRPC server (service/server.ts) on an ephemeral port, called with the generated client.
describe('gRPC OrderService (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let rpc: ReturnType<typeof buildServer>;
  let client: OrderServiceClient;
  let port: number;
  const token = testConfig().grpc.serviceTokens[0]!.token;

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'service', mq: true, logger: testLogger });
    rpc = buildServer(ctx);
    port = await rpc.listen('127.0.0.1', 0);
    client = new OrderServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await rpc?.shutdown(1000);
    await ctx?.close();
  });

  const md = (t = token) => {
    const m = new Metadata();
    if (t) m.set('x-service-token', t);
    return m;
  };
  function call<Res>(method: string, req: object, meta = md(), deadlineMs = 10_000): Promise<Res> {
    return new Promise((resolve, reject) =>
      (client as any)[method](req, meta, { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res: Res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }
  const code = (c: status, errorCode?: string) => (err: unknown) => {
    const e = err as ServiceError;
    return e.code === c && (errorCode === undefined || e.metadata.get('error-code')[0] === errorCode);
  };

  it('creates (idempotent by request_id), reads and cancels an order', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 2500, available: 10 }]);
    const userId = ++nextUser;
    const req = {
      requestId: randomUUID(),
      userId: String(userId),
      items: [{ skuId: String(sku), quantity: 2 }],
      address: { ...address, postcode: '' },
      note: '',
    };
    const first = (await call<CreateOrderResponse>('createOrder', req)) as { order: Order };
    assert.equal(first.order.totalAmount, '5000');
    assert.equal(first.order.status, OrderStatus.PENDING_PAYMENT);
    const again = await call<typeof first>('createOrder', req);
    assert.deepEqual(again, first);
    await assert.rejects(
      call('createOrder', { ...req, note: 'changed' }),
      code(status.INVALID_ARGUMENT, 'IDEMPOTENCY_KEY_REUSED'),
    );
    assert.equal((await ordersOfUser(ctx, userId)).length, 1);
    const got = await call<GetOrderResponse>('getOrder', { orderId: first.order.id, userId: String(userId) });
    assert.equal(got.order?.items.length, 1);
    assert.equal(got.order?.createdAt, first.order.createdAt);
    assert.match(got.order?.payDeadline ?? '', /^\d{4}-\d\d-\d\dT/);
    await assert.rejects(
      call('getOrder', { orderId: first.order.id, userId: '1' }),
      code(status.NOT_FOUND, 'ORDER_NOT_FOUND'),
    );
    const cancelled = await call<CancelOrderResponse>('cancelOrder', {
      requestId: randomUUID(),
      orderId: first.order.id,
      userId: String(userId),
      reason: 'USER',
    });
    // Every RPC returns the whole order: the same items as the create, the new state and its time.
    assert.equal(cancelled.order?.status, OrderStatus.CANCELLED);
    assert.deepEqual(cancelled.order?.items, first.order.items);
    assert.equal(cancelled.order?.cancelReason, 'USER');
    assert.ok(cancelled.order?.cancelledAt);
    const listed = await call<ListOrdersResponse>('listOrders', {
      userId: String(userId),
      status: OrderStatus.CANCELLED,
      cursor: '',
      limit: 0,
    });
    assert.deepEqual(listed.orders, [cancelled.order]);
    await assert.rejects(
      call('shipOrder', {
        requestId: randomUUID(),
        orderId: first.order.id,
        carrier: 'SF',
        trackingNo: 'SF00001',
        lines: [],
      }),
      code(status.FAILED_PRECONDITION, 'ORDER_STATE_CONFLICT'),
    );
  });

  it('bad input is INVALID_ARGUMENT with a code and writes nothing', async () => {
    const userId = ++nextUser;
    const base = {
      requestId: randomUUID(),
      userId: String(userId),
      items: [{ skuId: '1', quantity: 1 }],
      address: { ...address, postcode: '' },
      note: '',
    };
    await assert.rejects(
      call('createOrder', { ...base, userId: 'abc' }),
      code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
    );
    await assert.rejects(
      call('createOrder', { ...base, requestId: randomUUID(), items: [{ skuId: '1', quantity: 0 }] }),
      code(status.INVALID_ARGUMENT),
    );
    await assert.rejects(
      call('createOrder', { ...base, requestId: randomUUID(), items: [{ skuId: 'x', quantity: 1 }] }),
      code(status.INVALID_ARGUMENT),
    );
    await assert.rejects(
      call('createOrder', { ...base, requestId: randomUUID() }),
      code(status.INVALID_ARGUMENT, 'SKU_NOT_FOUND'),
    );
    await assert.rejects(
      call('createOrder', { ...base, requestId: '' }),
      code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
    );
    await assert.rejects(
      call('listOrders', { userId: String(userId), legacyStatus: 'NOPE', cursor: '', limit: 0 }),
      code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
    );
    await assert.rejects(
      call('listOrders', { userId: String(userId), status: 'NOPE', cursor: '', limit: 0 }),
      code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
    );
    // A user id past 64 bits, an address HTTP would refuse, and amounts Number() would take.
    await assert.rejects(
      call('createOrder', { ...base, requestId: randomUUID(), userId: '18446744073709551616' }),
      code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
    );
    for (const bad of [{ phone: 'call me' }, { detail: '' }, { postcode: '12' }, { name: 'x'.repeat(51) }]) {
      await assert.rejects(
        call('createOrder', { ...base, requestId: randomUUID(), address: { ...base.address, ...bad } }),
        code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
      );
    }
    // int64 on the wire: the server sees a decimal string; anything but a positive one is refused.
    for (const amount of ['-1', '0']) {
      await assert.rejects(
        call('applyPaymentResult', {
          requestId: randomUUID(),
          paymentId: '1',
          status: 'SUCCEEDED',
          amount,
          currency: 'CNY',
          providerTxnId: 'x',
          failureReason: '',
        }),
        code(status.INVALID_ARGUMENT, 'VALIDATION_FAILED'),
      );
    }
    assert.equal((await ordersOfUser(ctx, userId)).length, 0);
  });

  it('refuses callers without a valid service token, and calls past their deadline', async () => {
    await assert.rejects(
      call('getOrder', { orderId: '1', userId: '' }, md('')),
      code(status.UNAUTHENTICATED, 'UNAUTHENTICATED'),
    );
    await assert.rejects(
      call('getOrder', { orderId: '1', userId: '' }, md('wrong-token')),
      code(status.UNAUTHENTICATED),
    );
    await assert.rejects(call('getOrder', { orderId: '1', userId: '' }, md(), 1), code(status.DEADLINE_EXCEEDED));
  });

  it('pays through ApplyPaymentResult and reports duplicates', async () => {
    const [sku] = await makeSkus(ctx, [{ price: 700, available: 10 }]);
    const userId = String(++nextUser);
    const { order } = await call<{ order: { id: string } }>('createOrder', {
      requestId: randomUUID(),
      userId,
      items: [{ skuId: String(sku), quantity: 1 }],
      address: { ...address, postcode: '' },
      note: '',
    });
    const pay = await call<{ paymentId: string; amount: string }>('startPayment', {
      requestId: randomUUID(),
      orderId: order.id,
      userId,
      provider: '',
      method: '',
      openId: '',
      clientIp: '',
    });
    const apply = {
      requestId: randomUUID(),
      paymentId: pay.paymentId,
      status: 'SUCCEEDED',
      amount: '700',
      currency: 'CNY',
      providerTxnId: 't',
      failureReason: '',
    };
    assert.deepEqual(await call('applyPaymentResult', apply), { outcome: 'PAID' });
    assert.deepEqual(await call('applyPaymentResult', { ...apply, requestId: randomUUID() }), { outcome: 'DUPLICATE' });
    const got = await call<GetOrderResponse>('getOrder', { orderId: order.id, userId });
    assert.equal(got.order?.status, OrderStatus.PAID);
    assert.equal(got.order?.paidAmount, '700');
    assert.ok(got.order?.paidAt);
  });

  it('a caller built against release 0.1 of the proto still works (wire compatible for one release)', async () => {
    const def = loadSync(fileURLToPath(new URL('./fixtures/proto-v0.1/order.proto', import.meta.url)), {
      longs: String,
      defaults: true,
    });
    const OldClient = (loadPackageDefinition(def) as any).qianfan.order.v1.OrderService;
    const old = new OldClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const oldCall = <Res>(method: string, req: object) =>
      new Promise<Res>((resolve, reject) =>
        old[method](req, md(), { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res: Res) =>
          err ? reject(err) : resolve(res),
        ),
      );
    try {
      const [sku] = await makeSkus(ctx, [{ price: 300, available: 5 }]);
      const userId = String(++nextUser);
      type OldOrder = { id: string; status: string; payDeadline: string; createdAt: string; items: unknown[] };
      const created = await oldCall<{ order: OldOrder }>('CreateOrder', {
        requestId: randomUUID(),
        userId,
        items: [{ skuId: String(sku), quantity: 1 }],
        address: { ...address, postcode: '' },
      });
      assert.equal(created.order.status, 'PENDING_PAYMENT');
      assert.match(created.order.payDeadline, /^\d{4}-\d\d-\d\dT.*Z$/);
      assert.match(created.order.createdAt, /^\d{4}-\d\d-\d\dT.*Z$/);
      const list = await oldCall<{ orders: OldOrder[] }>('ListOrders', { userId, status: 'PENDING_PAYMENT' });
      assert.deepEqual(
        list.orders.map((o) => [o.id, o.status]),
        [[created.order.id, 'PENDING_PAYMENT']],
      );
      const none = await oldCall<{ orders: OldOrder[] }>('ListOrders', { userId, status: 'PAID' });
      assert.equal(none.orders.length, 0);
      const cancelled = await oldCall<{ order: OldOrder }>('CancelOrder', {
        requestId: randomUUID(),
        orderId: created.order.id,
        userId,
        reason: 'USER',
      });
      assert.equal(cancelled.order.status, 'CANCELLED');
    } finally {
      old.close();
    }
  });
});
