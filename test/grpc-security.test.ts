import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type ChannelCredentials, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { eq } from 'drizzle-orm';
import { idempotencyKeys } from '../internal/model/index.js';
import { getPayment } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { OrderServiceClient } from '../pkg/gen/qianfan/order/v1/order.js';
import { OrderClient, OrderServiceError } from '../pkg/index.js';
import { buildServer, serverCredentials } from '../service/server.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { type TestPki, testPki } from './helpers/tls.js';
import { waitFor } from './helpers/wait.js';

const CHECKOUT = 'tok-checkout-7a1c3e5f9b2d4f6a8c0e1b3d5f7a9c2e';
const PAYMENT = 'tok-payment-1b3d5f7a9c2e4a6c8e0b2d4f6a8c1e3f';
const TOKENS = `checkout:${CHECKOUT},payment:${PAYMENT}`;
const SERVER_NAME = 'qianfan-order-service';

let nextUser = BigInt(Date.now()) * 1000n + 900_000n;

// One real server bound three times: plaintext, TLS, and TLS requiring a client certificate (mTLS);
// callers named by token (config/test.yaml grpc.callers: checkout, payment).
describe('gRPC security: TLS, mTLS and per-method callers', () => {
  let ctx: ServiceContext;
  let rpc: ReturnType<typeof buildServer>;
  let pki: TestPki;
  const ports = { plain: 0, tls: 0, mtls: 0 };
  const clients: OrderServiceClient[] = [];

  before(async () => {
    pki = testPki();
    const server = pki.issue('server', `DNS:${SERVER_NAME},IP:127.0.0.1`);
    ctx = await createServiceContext(testConfig({ QIANFAN_GRPC__SERVICE_TOKENS: TOKENS }), {
      process: 'service',
      mq: true,
      logger: testLogger,
    });
    rpc = buildServer(ctx);
    ports.plain = await rpc.listen('127.0.0.1', 0);
    const tls = { certFile: server.certFile, keyFile: server.keyFile, caFile: pki.caFile };
    ports.tls = await rpc.listen('127.0.0.1', 0, serverCredentials({ ...tls, requireClientCert: false }));
    ports.mtls = await rpc.listen('127.0.0.1', 0, serverCredentials({ ...tls, requireClientCert: true }));
  });
  after(async () => {
    for (const c of clients) c.close();
    await rpc?.shutdown(1000);
    await ctx?.close();
  });

  const client = (port: number, creds: ChannelCredentials) => {
    const c = new OrderServiceClient(`127.0.0.1:${port}`, creds, {
      'grpc.ssl_target_name_override': SERVER_NAME,
    });
    clients.push(c);
    return c;
  };
  function call<Res>(c: OrderServiceClient, method: string, req: object, token: string): Promise<Res> {
    const md = new Metadata();
    md.set('x-service-token', token);
    return new Promise((resolve, reject) =>
      (c as any)[method](req, md, { deadline: Date.now() + 5000 }, (err: ServiceError | null, res: Res) =>
        err ? reject(err) : resolve(res),
      ),
    );
  }
  const code = (c: status, errorCode?: string) => (err: unknown) => {
    const e = err as ServiceError;
    return e.code === c && (errorCode === undefined || e.metadata.get('error-code')[0] === errorCode);
  };
  const newOrder = async (c: OrderServiceClient, price = 800) => {
    const [sku] = await makeSkus(ctx, [{ price, available: 10 }]);
    const userId = String(++nextUser);
    const requestId = randomUUID();
    const { order } = await call<{ order: { id: string; totalAmount: string } }>(
      c,
      'createOrder',
      {
        requestId,
        userId,
        items: [{ skuId: String(sku), quantity: 1 }],
        address: { ...address, postcode: '' },
        note: '',
      },
      CHECKOUT,
    );
    return { order, userId, requestId };
  };

  it('TLS: a client trusting the CA calls; a plaintext client cannot talk to the TLS port', async () => {
    const tls = client(ports.tls, credentials.createSsl(pki.ca));
    const { order } = await newOrder(tls, 1300);
    assert.equal(order.totalAmount, '1300');
    const plain = client(ports.tls, credentials.createInsecure());
    await assert.rejects(
      call(plain, 'getOrder', { orderId: order.id, userId: '' }, CHECKOUT),
      code(status.UNAVAILABLE),
    );
    // A client that does not trust the server's CA refuses it.
    const stranger = testPki('qf-other-ca');
    const untrusting = client(ports.tls, credentials.createSsl(stranger.ca));
    await assert.rejects(
      call(untrusting, 'getOrder', { orderId: order.id, userId: '' }, CHECKOUT),
      code(status.UNAVAILABLE),
    );
  });

  it('mTLS: only a client certificate the CA signed gets in', async () => {
    const mine = pki.issue('checkout-client');
    const ok = client(ports.mtls, credentials.createSsl(pki.ca, mine.key, mine.cert));
    const { order } = await newOrder(ok);
    const noCert = client(ports.mtls, credentials.createSsl(pki.ca));
    await assert.rejects(
      call(noCert, 'getOrder', { orderId: order.id, userId: '' }, CHECKOUT),
      code(status.UNAVAILABLE),
    );
    const foreign = testPki('qf-foreign-ca').issue('intruder');
    const wrongCa = client(ports.mtls, credentials.createSsl(pki.ca, foreign.key, foreign.cert));
    await assert.rejects(
      call(wrongCa, 'getOrder', { orderId: order.id, userId: '' }, CHECKOUT),
      code(status.UNAVAILABLE),
    );
  });

  it('a caller may call only its methods: checkout cannot mark an order paid or refund it, and nothing is written', async () => {
    const c = client(ports.plain, credentials.createInsecure());
    const { order, userId, requestId } = await newOrder(c, 900);
    // The idempotency scope names the caller; the token is stored nowhere.
    const [row] = await ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, requestId));
    assert.equal(row?.scope, 'grpc:checkout:CreateOrder');
    const pay = await call<{ paymentId: string }>(
      c,
      'startPayment',
      // The raw generated client needs every string field (pkg/'s client fills them with fromPartial).
      { requestId: randomUUID(), orderId: order.id, userId, provider: '', method: '', openId: '', clientIp: '' },
      CHECKOUT,
    );
    const apply = {
      requestId: randomUUID(),
      paymentId: pay.paymentId,
      status: 'SUCCEEDED',
      amount: '900',
      currency: 'CNY',
      providerTxnId: 't-forbidden',
      failureReason: '',
    };
    await assert.rejects(call(c, 'applyPaymentResult', apply, CHECKOUT), (err: unknown) => {
      const e = err as ServiceError;
      return (
        e.code === status.PERMISSION_DENIED &&
        e.metadata.get('error-code')[0] === 'FORBIDDEN' &&
        /caller 'checkout' may not call ApplyPaymentResult/.test(e.details)
      );
    });
    await assert.rejects(
      call(c, 'requestRefund', { requestId: randomUUID(), orderId: order.id, userId, reason: 'x' }, CHECKOUT),
      code(status.PERMISSION_DENIED, 'FORBIDDEN'),
    );
    assert.equal((await getPayment(ctx.db, BigInt(pay.paymentId)))?.status, 'PENDING');
    assert.equal(
      (await ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, apply.requestId))).length,
      0,
    );
    // The payment caller may; an unknown token is UNAUTHENTICATED whatever the method.
    assert.deepEqual(await call(c, 'applyPaymentResult', apply, PAYMENT), { outcome: 'PAID' });
    await assert.rejects(
      call(c, 'createOrder', { requestId: randomUUID(), userId, items: [], note: '' }, PAYMENT),
      code(status.PERMISSION_DENIED),
    );
    await assert.rejects(
      call(c, 'getOrder', { orderId: order.id, userId }, 'dev-service-token'),
      code(status.UNAUTHENTICATED),
    );
  });
});

// What another service does with pkg/: the real service process serving TLS, found through etcd.
describe('pkg: OrderClient over TLS to the real service process', () => {
  const config = testConfig();
  let proc: Proc | undefined;
  let tlsClient: OrderClient | undefined;
  let plainClient: OrderClient | undefined;
  after(async () => {
    await tlsClient?.close();
    await plainClient?.close();
    if (proc) await stopWithin(proc, 10_000);
  });

  it('calls with the CA and server name; a plaintext client cannot', async () => {
    const pki = testPki();
    const server = pki.issue('server', `DNS:${SERVER_NAME}`);
    const port = config.grpc.port + 30;
    proc = startProcess('service/main.ts', [], {
      QIANFAN_GRPC__PORT: String(port),
      QIANFAN_ADMIN__SERVICE_PORT: String(config.admin.servicePort + 30),
      QIANFAN_SERVICE__INSTANCE: String(30),
      QIANFAN_GRPC__SERVICE_TOKENS: TOKENS,
      QIANFAN_GRPC__TLS__CERT_FILE: server.certFile,
      QIANFAN_GRPC__TLS__KEY_FILE: server.keyFile,
    });
    const connect = (tls?: { ca: Buffer; serverName: string }) =>
      OrderClient.connect({
        etcdHosts: config.etcd.endpoints,
        prefix: config.etcd.prefix,
        serviceToken: CHECKOUT,
        deadlineMs: 3000,
        tls,
      });
    tlsClient = await connect({ ca: pki.ca, serverName: SERVER_NAME });
    const address = `${config.grpc.advertiseHost}:${port}`;
    await waitFor('the TLS instance in etcd', 30_000, () => tlsClient!.instances().includes(address));
    assert.deepEqual(tlsClient.instances(), [address], "only this test's instance is registered");
    await waitFor('a call over TLS', 30_000, async () => {
      try {
        await tlsClient!.getOrder({ orderId: '1', userId: '1' });
        return false;
      } catch (e) {
        return e instanceof OrderServiceError && e.code === 'ORDER_NOT_FOUND';
      }
    });
    plainClient = await connect();
    await waitFor('the TLS instance listed', 10_000, () => plainClient!.instances().includes(address));
    await assert.rejects(
      plainClient.getOrder({ orderId: '1', userId: '1' }),
      (e: unknown) => e instanceof OrderServiceError && e.grpcCode === status.UNAVAILABLE,
    );
  });
});
