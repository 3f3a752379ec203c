import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signDevToken } from '../internal/auth/index.js';
import { markDelivered, shipOrder } from '../internal/delivery/index.js';
import type { ConsumerLoop } from '../internal/mq/index.js';
import { cancelOrder, createOrder } from '../internal/order/index.js';
import { sandboxWebhook, startPayment } from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { startPaymentConsumer } from './helpers/consumers.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { waitFor } from './helpers/wait.js';

const PORT = 18931;
const base = `http://127.0.0.1:${PORT}`;

interface Seen {
  id: number;
  data: { version: number; status: string; previousStatus: string | null; reason: string };
  at: number;
}

/** A Server-Sent Events client over fetch: the events as they come, and whether the server ended it. */
function watch(url: string, headers: Record<string, string>) {
  const events: Seen[] = [];
  let comments = 0;
  let ended = false;
  let status = 0;
  const abort = new AbortController();
  const done = (async () => {
    const res = await fetch(url, { headers, signal: abort.signal });
    status = res.status;
    if (!res.ok || !res.body) return;
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (block.startsWith(':')) comments++;
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id !== undefined && data !== undefined)
          events.push({ id: Number(id), data: JSON.parse(data), at: Date.now() });
      }
    }
    ended = true;
  })().catch(() => {});
  return {
    events,
    status: () => status,
    comments: () => comments,
    ended: () => ended,
    close: () => abort.abort(),
    done,
    until: (what: string, pred: () => boolean, ms = 10_000) => waitFor(what, ms, () => pred(), 20),
  };
}

// Live order status: a client watching an order sees each version once, in order, within a second of the
// change; it resumes from Last-Event-ID across a restful restart (SIGTERM and kill -9) without a gap.
describe('order status as Server-Sent Events (real restful process, MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let restful: Proc | undefined;
  let payments: ConsumerLoop;
  let sku: bigint;
  const buyer = BigInt(Date.now()) * 1000n + 900_901n;
  let token: string;
  const startRestful = async () => {
    const p = startProcess('restful/main.ts', [], {
      QIANFAN_SERVICE__INSTANCE: '31',
      QIANFAN_HTTP__PORT: String(PORT),
      QIANFAN_ADMIN__RESTFUL_PORT: String(PORT + 1000),
      QIANFAN_HTTP__ORDER_STREAMS_PER_USER: '2',
      QIANFAN_HTTP__ORDER_STREAM_HEARTBEAT_MS: '4000',
    });
    restful = p;
    await waitFor('restful ready', 30_000, async () => {
      if (p.child.exitCode !== null) throw new Error(`restful exited:\n${p.output()}`);
      return (await fetch(`${base}/readyz`).catch(() => undefined))?.ok;
    });
  };

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
    payments = await startPaymentConsumer(ctx);
    [sku] = (await makeSkus(ctx, [{ price: 990, available: 50 }])) as [bigint];
    token = await signDevToken(ctx.config.auth, { userId: String(buyer), roles: ['user'] }, 3600);
    await startRestful();
  });
  after(async () => {
    if (restful && restful.child.exitCode === null) await stopWithin(restful, 10_000);
    await payments?.stop();
    await ctx?.close();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });
  /** The buyer pays at the sandbox provider, whose signed notification reaches restful's webhook route. */
  const payByWebhook = async (id: bigint) => {
    const { payment } = await startPayment(ctx, { orderId: id, userId: buyer });
    const hook = sandboxWebhook(ctx.config.payment.webhookSecret, {
      type: 'payment.succeeded',
      paymentId: String(payment.id),
      orderId: String(id),
      providerTxnId: `sse-${payment.id}`,
      amount: payment.amount,
      currency: 'CNY',
      occurredAt: new Date().toISOString(),
    } as never);
    const res = await fetch(`${base}/v1/payments/webhooks/sandbox`, {
      method: 'POST',
      headers: hook.headers,
      body: hook.body,
    });
    assert.equal(res.status, 202, await res.text());
  };
  const newOrder = async () =>
    (await createOrder(ctx, { userId: buyer, items: [{ skuId: sku, quantity: 1 }], address })).order.id;

  it('sees the current version, then PAID within 1 s of the payment webhook; heartbeats in between', async () => {
    const id = await newOrder();
    const w = watch(`${base}/v1/orders/${id}/events`, auth());
    await w.until('the current version', () => w.events.length === 1);
    assert.deepEqual(
      [w.events[0]?.id, w.events[0]?.data.status, w.events[0]?.data.previousStatus],
      [0, 'PENDING_PAYMENT', null],
    );
    // Right after a heartbeat (which re-reads the order too), so the next is 4 s away: PAID within 1 s can
    // only come from the change's notice.
    await w.until('a heartbeat', () => w.comments() > 0, 6000);
    await payByWebhook(id);
    const answered = Date.now();
    await w.until('PAID', () => w.events.length === 2, 5000);
    const paid = w.events[1] as Seen;
    assert.deepEqual([paid.id, paid.data.status, paid.data.previousStatus], [1, 'PAID', 'PENDING_PAYMENT']);
    assert.ok(paid.at - answered < 1000, `PAID seen ${paid.at - answered} ms after the webhook was answered`);
    w.close();
  });

  it('resumes from Last-Event-ID across a restart (SIGTERM, then kill -9) without a gap or a repeat', async () => {
    const id = await newOrder();
    const w = watch(`${base}/v1/orders/${id}/events`, auth());
    await w.until('the current version', () => w.events.length === 1);
    // Paid while watched.
    await payByWebhook(id);
    await w.until('PAID', () => w.events.length === 2);

    // A deploy: SIGTERM ends the stream cleanly (the process does not wait for it), and the order ships
    // while no restful runs.
    const stop = await stopWithin(restful as Proc, 10_000);
    assert.equal(stop.code, 0);
    assert.ok(stop.ms < 5000, `restful took ${stop.ms} ms to stop with a stream open`);
    await w.until('the stream ended by the server', () => w.ended());
    await shipOrder(ctx, { orderId: id, carrier: 'SF', trackingNo: `SSE${id}`, actor: { type: 'ADMIN', id: 't' } });
    await startRestful();
    const last = String(w.events.at(-1)?.id);
    const w2 = watch(`${base}/v1/orders/${id}/events`, { ...auth(), 'last-event-id': last });
    await w2.until('SHIPPED after the restart', () => w2.events.length === 1);
    assert.deepEqual([w2.events[0]?.id, w2.events[0]?.data.status], [2, 'SHIPPED']);

    // kill -9 of restful with the stream open; delivered meanwhile; resumed after the restart.
    restful?.child.kill('SIGKILL');
    await restful?.exited;
    await markDelivered(ctx, { orderId: id, actor: { type: 'SYSTEM', id: 't' } });
    await startRestful();
    const w3 = watch(`${base}/v1/orders/${id}/events`, { ...auth(), 'last-event-id': String(w2.events.at(-1)?.id) });
    await w3.until('DELIVERED after kill -9', () => w3.events.length === 1);
    assert.deepEqual([w3.events[0]?.id, w3.events[0]?.data.status], [3, 'DELIVERED']);
    const all = [...w.events, ...w2.events, ...w3.events].map((e) => e.id);
    assert.deepEqual(all, [0, 1, 2, 3], 'every version once, in order');
    w3.close();
    // Resuming from the start replays the whole history.
    const w4 = watch(`${base}/v1/orders/${id}/events`, { ...auth(), 'last-event-id': '0' });
    await w4.until('versions 1-3', () => w4.events.length === 3);
    w4.close();
  });

  it("another user's order is 404; a third stream of one user is 429 TOO_MANY_STREAMS", async () => {
    const id = await newOrder();
    const other = await signDevToken(ctx.config.auth, { userId: String(buyer + 1n), roles: ['user'] }, 600);
    const res = await fetch(`${base}/v1/orders/${id}/events`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { code: string }).code, 'ORDER_NOT_FOUND');
    assert.equal((await fetch(`${base}/v1/orders/${id}/events`)).status, 401);
    assert.equal((await fetch(`${base}/v1/orders/0x1/events`, { headers: auth() })).status, 400);
    const badResume = await fetch(`${base}/v1/orders/${id}/events`, { headers: { ...auth(), 'last-event-id': 'v1' } });
    assert.deepEqual(
      [badResume.status, ((await badResume.json()) as { code: string }).code],
      [400, 'VALIDATION_FAILED'],
    );
    const a = watch(`${base}/v1/orders/${id}/events`, auth());
    const b = watch(`${base}/v1/orders/${id}/events`, auth());
    await a.until('two streams open', () => a.events.length === 1 && b.events.length === 1);
    const third = await fetch(`${base}/v1/orders/${id}/events`, { headers: auth() });
    assert.equal(third.status, 429);
    assert.equal(((await third.json()) as { code: string }).code, 'TOO_MANY_STREAMS');
    a.close();
    // A closed stream frees its place.
    await waitFor('a place again', 5000, async () => {
      const r = await fetch(`${base}/v1/orders/${id}/events`, {
        headers: auth(),
        signal: AbortSignal.timeout(1000),
      }).catch(() => undefined);
      const ok = r?.status === 200;
      await r?.body?.cancel().catch(() => {});
      return ok;
    });
    b.close();
  });
});

// A stalled Redis (SIGSTOP: connections open, nothing answers) loses the change notices; the streams keep
// going on the heartbeat's re-read, so an event comes one heartbeat late at most, and none is lost.
describe('order streams with Redis stalled (SIGSTOP)', () => {
  const REDIS_PORT = 17_000 + Math.floor(Math.random() * 100);
  const STALL_PORT = 18_941;
  let redis: ChildProcess;
  let ctx: ServiceContext;
  let restful: Proc | undefined;
  // Its own single Redis, also when the suite runs on a Redis Cluster.
  const env = {
    QIANFAN_REDIS__PORT: String(REDIS_PORT),
    QIANFAN_REDIS__CLUSTER_NODES: '',
    QIANFAN_REDIS__COMMAND_TIMEOUT_MS: '300',
  };
  before(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'qf-watch-stall-'));
    redis = spawn(
      'redis-server',
      ['--port', String(REDIS_PORT), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    ctx = await waitFor('the private Redis', 10_000, () =>
      createServiceContext(testConfig(env), { process: 'script', mq: true, logger: testLogger }).catch(() => undefined),
    );
    const p = startProcess('restful/main.ts', [], {
      ...env,
      QIANFAN_SERVICE__INSTANCE: '32',
      QIANFAN_HTTP__PORT: String(STALL_PORT),
      QIANFAN_ADMIN__RESTFUL_PORT: String(STALL_PORT + 1000),
      QIANFAN_HTTP__ORDER_STREAM_HEARTBEAT_MS: '2000',
    });
    restful = p;
    await waitFor('restful ready', 30_000, async () => {
      if (p.child.exitCode !== null) throw new Error(`restful exited:\n${p.output()}`);
      return (await fetch(`http://127.0.0.1:${STALL_PORT}/readyz`).catch(() => undefined))?.ok;
    });
  });
  after(async () => {
    redis?.kill('SIGCONT');
    if (restful && restful.child.exitCode === null) await stopWithin(restful, 10_000);
    await ctx?.close();
    redis?.kill('SIGKILL');
  });

  it('an open stream gets each version within a heartbeat while Redis is stalled, and after it resumes', async () => {
    const [sku] = (await makeSkus(ctx, [{ price: 500, available: 5 }])) as [bigint];
    const buyer = BigInt(Date.now()) * 1000n + 900_951n;
    const token = await signDevToken(ctx.config.auth, { userId: String(buyer), roles: ['user'] }, 600);
    const id = (await createOrder(ctx, { userId: buyer, items: [{ skuId: sku, quantity: 1 }], address })).order.id;
    const w = watch(`http://127.0.0.1:${STALL_PORT}/v1/orders/${id}/events`, { authorization: `Bearer ${token}` });
    await w.until('the current version', () => w.events.length === 1);
    redis.kill('SIGSTOP');
    const started = Date.now();
    await cancelOrder(ctx, { orderId: id, reason: 'ADMIN', actor: { type: 'ADMIN', id: 't' } });
    await w.until('CANCELLED with Redis stalled', () => w.events.length === 2, 6000);
    assert.equal(w.events[1]?.data.status, 'CANCELLED');
    assert.ok((w.events[1]?.at ?? 0) - started < 2000 + 1500, 'within a heartbeat (2 s) and a read');
    redis.kill('SIGCONT');
    assert.deepEqual(
      w.events.map((e) => e.id),
      [0, 1],
    );
    w.close();
  });
});
