import { randomUUID } from 'node:crypto';
import { credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { OrderServiceClient } from '../../pkg/gen/qianfan/order/v1/order.js';
import { type OrderClient, OrderServiceError } from '../../pkg/index.js';
import { address } from '../helpers/orders.js';
import { sleep } from '../helpers/wait.js';

/** A small seeded PRNG (mulberry32): the same seed makes the same choices and fault schedule. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p: number) => next() < p,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!,
  };
}
export type Rng = ReturnType<typeof prng>;

export interface Answer {
  status: number;
  body: any;
}

/** What the clients were told: the ledger the invariants are checked against. */
export interface Ledger {
  creates: Array<{ key: string; userId: string; via: 'http' | 'grpc'; answer?: Answer; orderId?: string }>;
  purchases: Array<{ key: string; userId: string; answer?: Answer; ticketId?: string }>;
  cancels: Array<{ orderId: string; answer?: Answer }>;
  refundRequests: Array<{ orderId: string; answer?: Answer }>;
  /** After-sales the merchant approved (answer 200): each must end REFUNDED. */
  approvedAfterSales: Array<{ orderId: string; afterSaleId: string }>;
  requests: number;
  retried: number;
  unanswered: number;
  /** The requests that never got an answer, with the last thing they saw. */
  gaveUp: string[];
}

export const newLedger = (): Ledger => ({
  creates: [],
  purchases: [],
  cancels: [],
  refundRequests: [],
  approvedAfterSales: [],
  requests: 0,
  retried: 0,
  unanswered: 0,
  gaveUp: [],
});

const HTTP = 'http://127.0.0.1:18888';
const RETRY_FOR_MS = 60_000;

/**
 * Like a well-behaved client: a request that fails on the network, with a 5xx, 429 or an in-flight
 * idempotency key is retried with the same key, with backoff, for up to a minute. Undefined when it
 * never got an answer (the effect may or may not have happened).
 */
export async function call(
  ledger: Ledger,
  method: 'GET' | 'POST',
  path: string,
  opts: { token?: string; key?: string; body?: unknown } = {},
): Promise<Answer | undefined> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.key) headers['idempotency-key'] = opts.key;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const end = Date.now() + RETRY_FOR_MS;
  let wait = 200;
  let last = '';
  for (let attempt = 0; ; attempt++) {
    ledger.requests++;
    if (attempt > 0) ledger.retried++;
    try {
      const res = await fetch(HTTP + path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      const body = text ? JSON.parse(text) : {};
      const retry = res.status >= 500 || res.status === 429 || body?.code === 'IDEMPOTENCY_KEY_IN_FLIGHT';
      if (!retry) return { status: res.status, body };
      last = `${res.status} ${body?.code ?? ''}`;
    } catch (err) {
      // connection refused or reset while the process restarts: retried
      last = (err as Error).message;
    }
    if (Date.now() > end) {
      ledger.unanswered++;
      ledger.gaveUp.push(`${method} ${path}: ${last}`);
      return undefined;
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 2000);
  }
}

/** A call through pkg's OrderClient, answered in the raw client's shape (status code, error-code metadata). */
async function viaPkg<Res>(c: OrderClient, method: string, req: object): Promise<{ ok?: Res; err?: ServiceError }> {
  try {
    return { ok: await (c as any)[method](req) };
  } catch (err) {
    const e = err instanceof OrderServiceError ? err : undefined;
    const metadata = new Metadata();
    if (e) metadata.set('error-code', e.code);
    const code = e?.grpcCode ?? status.UNAVAILABLE;
    return {
      err: Object.assign(new Error((err as Error).message), { code, details: (err as Error).message, metadata }),
    };
  }
}

/**
 * gRPC calls with the same retry rule (UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, ALREADY_EXISTS in flight):
 * to the one service on the test port, or through pkg's OrderClient (etcd discovery, p2c) when given.
 */
export function grpcClient(serviceToken: string, via?: OrderClient) {
  const client = new OrderServiceClient('127.0.0.1:19000', credentials.createInsecure());
  const md = new Metadata();
  md.set('x-service-token', serviceToken);
  async function unary<Res>(
    ledger: Ledger,
    method: string,
    req: object,
  ): Promise<{ ok?: Res; err?: ServiceError } | undefined> {
    const end = Date.now() + RETRY_FOR_MS;
    let wait = 200;
    for (let attempt = 0; ; attempt++) {
      ledger.requests++;
      if (attempt > 0) ledger.retried++;
      const r = via
        ? await viaPkg<Res>(via, method, req)
        : await new Promise<{ ok?: Res; err?: ServiceError }>((resolve) =>
            (client as any)[method](req, md, { deadline: Date.now() + 15_000 }, (err: ServiceError | null, res: Res) =>
              resolve(err ? { err } : { ok: res }),
            ),
          );
      const transient =
        r.err &&
        ([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED, status.INTERNAL, status.UNKNOWN].includes(
          r.err.code,
        ) ||
          r.err.metadata.get('error-code')[0] === 'IDEMPOTENCY_KEY_IN_FLIGHT');
      if (!transient) return r;
      if (Date.now() > end) {
        ledger.unanswered++;
        ledger.gaveUp.push(`gRPC ${method}: ${r.err?.code} ${r.err?.details ?? ''}`);
        return undefined;
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 2000);
    }
  }
  return {
    unary,
    close: () => {
      client.close();
      void via?.close();
    },
  };
}

export interface World {
  ledger: Ledger;
  rng: Rng;
  skus: string[];
  saleId: string;
  tokenOf: (userId: string, roles?: string[]) => Promise<string>;
  admin: string;
  grpc: ReturnType<typeof grpcClient>;
  nextUser: () => string;
}

async function createOrder(w: World, userId: string): Promise<string | undefined> {
  const key = randomUUID();
  const lines = w.rng.chance(0.5) ? [w.rng.pick(w.skus)] : [...new Set([w.rng.pick(w.skus), w.rng.pick(w.skus)])];
  const items = lines.map((skuId) => ({ skuId, quantity: w.rng.int(1, 2) }));
  // The note carries the key, so the database shows which key each order came from.
  if (w.rng.chance(0.2)) {
    const entry: Ledger['creates'][number] = { key, userId, via: 'grpc' };
    w.ledger.creates.push(entry);
    const r = await w.grpc.unary<any>(w.ledger, 'createOrder', { requestId: key, userId, items, address, note: key });
    if (r?.ok) {
      entry.answer = { status: 201, body: r.ok.order };
      entry.orderId = r.ok.order.id;
    } else if (r?.err) entry.answer = { status: r.err.code, body: { code: r.err.metadata.get('error-code')[0] } };
    return entry.orderId;
  }
  const entry: Ledger['creates'][number] = { key, userId, via: 'http' };
  w.ledger.creates.push(entry);
  const token = await w.tokenOf(userId);
  let a = await call(w.ledger, 'POST', '/v1/orders', { token, key, body: { items, address, note: key } });
  // Sometimes the client retries a request that did succeed (lost response): same key, same body.
  if (a?.status === 201 && w.rng.chance(0.1)) {
    a = await call(w.ledger, 'POST', '/v1/orders', { token, key, body: { items, address, note: key } });
  }
  entry.answer = a;
  if (a?.status === 201) entry.orderId = a.body.id;
  return entry.orderId;
}

async function pay(w: World, userId: string, orderId: string): Promise<string | undefined> {
  const token = await w.tokenOf(userId);
  const p = await call(w.ledger, 'POST', `/v1/orders/${orderId}/payments`, { token, key: randomUUID(), body: {} });
  return p?.status === 201 ? p.body.id : undefined;
}

const sandbox = (w: World, paymentId: string, outcome: 'succeed' | 'fail') =>
  call(w.ledger, 'POST', `/v1/sandbox/payments/${paymentId}/${outcome}`);

/** One buyer's story with a new order; which story is chosen by the seed. */
export async function orderStory(w: World, userId: string): Promise<void> {
  const orderId = await createOrder(w, userId);
  if (!orderId) return;
  const token = await w.tokenOf(userId);
  const roll = w.rng.next();
  if (roll < 0.15) return; // left unpaid: the close-expired job cancels it after the deadline
  if (roll < 0.3) {
    const a = await call(w.ledger, 'POST', `/v1/orders/${orderId}/cancel`, { token, key: randomUUID() });
    w.ledger.cancels.push({ orderId, answer: a });
    if (w.rng.chance(0.5)) {
      // A payment that arrives after the cancel: recorded and refunded automatically.
      const late = await pay(w, userId, orderId);
      if (late) await sandbox(w, late, 'succeed');
    }
    return;
  }
  const paymentId = await pay(w, userId, orderId);
  if (!paymentId) return;
  if (w.rng.chance(0.15)) await sandbox(w, paymentId, 'fail'); // failed first, succeeded later (out of order)
  await sandbox(w, paymentId, 'succeed');
  if (w.rng.chance(0.25)) await sandbox(w, paymentId, 'succeed'); // duplicated webhook
  if (w.rng.chance(0.1)) await sandbox(w, paymentId, 'fail'); // a stale failure after the success
  if (w.rng.chance(0.1)) {
    // A second attempt paid as well: the order keeps one, the other is refunded.
    const second = await pay(w, userId, orderId);
    if (second) await sandbox(w, second, 'succeed');
  }
  const paid = await waitForStatus(w, token, orderId, ['PAID'], 20_000);
  if (!paid) return;
  const next = w.rng.next();
  if (next < 0.3) {
    const a = await call(w.ledger, 'POST', `/v1/orders/${orderId}/refunds`, {
      token,
      key: randomUUID(),
      body: { reason: 'changed my mind' },
    });
    w.ledger.refundRequests.push({ orderId, answer: a });
  } else if (next < 0.7) {
    await shipStory(w, token, orderId, paid.items);
  }
}

/**
 * Ships a paid order as one parcel, or (units allowing, half the time) as two with the buyer sometimes
 * asking for a refund of a unit not yet shipped in between (approved or rejected); then delivery, a
 * confirmation, and sometimes a refund-only after-sale of a delivered unit that the merchant approves.
 */
async function shipStory(w: World, token: string, orderId: string, items: Array<{ id: string; quantity: number }>) {
  const admin = { token: w.admin };
  const ship = (trackingNo: string, lines?: Array<{ orderItemId: string; quantity: number }>) =>
    call(w.ledger, 'POST', `/v1/admin/orders/${orderId}/ship`, {
      ...admin,
      key: randomUUID(),
      body: { carrier: 'SF', trackingNo, ...(lines ? { lines } : {}) },
    });
  const units = items.reduce((n, i) => n + i.quantity, 0);
  if (units >= 2 && w.rng.chance(0.5)) {
    await ship(`SFA${orderId}`, [{ orderItemId: items[0]!.id, quantity: 1 }]);
    if (w.rng.chance(0.4)) {
      const last = items.at(-1)!;
      await afterSale(w, token, orderId, last.id, w.rng.chance(0.7));
    }
  }
  await ship(`SF${orderId}`);
  await call(w.ledger, 'POST', `/v1/admin/orders/${orderId}/deliver`, { ...admin, key: randomUUID() });
  if (w.rng.chance(0.3)) await afterSale(w, token, orderId, items[0]!.id, true);
  if (w.rng.chance(0.5))
    await call(w.ledger, 'POST', `/v1/orders/${orderId}/confirm-receipt`, { token, key: randomUUID() });
}

/** The buyer asks for one unit of a line back (refund only); the merchant approves or rejects. */
async function afterSale(w: World, token: string, orderId: string, orderItemId: string, approve: boolean) {
  const asked = await call(w.ledger, 'POST', `/v1/orders/${orderId}/after-sales`, {
    token,
    key: randomUUID(),
    body: { kind: 'REFUND_ONLY', reason: 'chaos', lines: [{ orderItemId, quantity: 1 }] },
  });
  if (asked?.status !== 201) return;
  const id = asked.body.id as string;
  const review = await call(w.ledger, 'POST', `/v1/admin/after-sales/${id}/${approve ? 'approve' : 'reject'}`, {
    token: w.admin,
    key: randomUUID(),
    body: approve ? {} : { note: 'already packed' },
  });
  if (approve && review?.status === 200) w.ledger.approvedAfterSales.push({ orderId, afterSaleId: id });
}

async function waitForStatus(w: World, token: string, orderId: string, want: string[], ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const a = await call(w.ledger, 'GET', `/v1/orders/${orderId}`, { token });
    if (a && want.includes(a.body.status)) return a.body;
    await sleep(300);
  }
  return undefined;
}

/** A flash-sale buyer: one purchase (sometimes two, to try the limit), and pays if an order comes. */
export async function flashStory(w: World): Promise<void> {
  const userId = w.nextUser();
  const token = await w.tokenOf(userId);
  const tries = w.rng.chance(0.2) ? 2 : 1;
  for (let i = 0; i < tries; i++) {
    const key = randomUUID();
    const entry: Ledger['purchases'][number] = { key, userId };
    w.ledger.purchases.push(entry);
    const a = await call(w.ledger, 'POST', `/v1/flash-sales/${w.saleId}/purchases`, { token, key, body: { address } });
    entry.answer = a;
    if (a?.status === 202) entry.ticketId = a.body.ticketId;
  }
  const ticketId = w.ledger.purchases.find((p) => p.userId === userId && p.ticketId)?.ticketId;
  if (!ticketId || w.rng.chance(0.4)) return; // some never pay: the order times out and the unit returns
  const end = Date.now() + 20_000;
  while (Date.now() < end) {
    const t = await call(w.ledger, 'GET', `/v1/flash-sales/tickets/${ticketId}`, { token });
    if (t?.body.status === 'ORDERED') {
      const paymentId = await pay(w, userId, t.body.orderId);
      if (paymentId) await sandbox(w, paymentId, 'succeed');
      return;
    }
    if (t?.body.status === 'FAILED') return;
    await sleep(500);
  }
}
