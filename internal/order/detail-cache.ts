import { cacheAside } from '../cache/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import type { OrderItemRow, OrderRow } from './repository.js';
import { itemFromJson, itemToJson, orderFromJson, orderToJson } from './row-codec.js';
import type { OrderExtras } from './whole-order.js';

/** The whole order: its row, items, and payment attempts, refunds, shipments and status timeline. */
export interface OrderDetail {
  order: OrderRow;
  items: OrderItemRow[];
  extras: OrderExtras;
}

/**
 * One number that grows with every change to the whole order: a transition adds 1 to `version`, a change
 * to its payments or refunds alone adds 1 to `sideRev` (2^32 of those per version is far beyond any
 * order, and the product stays an exact double for 2^21 versions). The cache refuses to store an older
 * revision than one it was told about.
 */
export function orderRevision(version: number, sideRev: number): number {
  return version * 2 ** 32 + sideRev;
}

function encode(d: OrderDetail): string {
  return JSON.stringify({ order: orderToJson(d.order), items: d.items.map(itemToJson), extras: d.extras });
}

function decode(s: string): OrderDetail {
  const raw = JSON.parse(s) as {
    order: Record<string, unknown>;
    items: Array<Record<string, unknown>>;
    extras: OrderExtras;
  };
  return { order: orderFromJson(raw.order), items: raw.items.map(itemFromJson), extras: raw.extras };
}

const caches = new WeakMap<ServiceContext, ReturnType<typeof build>>();

function build(ctx: ServiceContext) {
  const reads = serviceMetrics(ctx.metrics).cache;
  return cacheAside<OrderDetail>(ctx.redis, {
    // The whole order; the key 'order:detail:' once held the row and items alone.
    prefix: 'order:whole:',
    ttlSeconds: 60,
    jitterSeconds: 30,
    notFoundTtlSeconds: 5,
    encode,
    decode,
    versionOf: (d) => orderRevision(d.order.version, d.order.sideRev),
    // Apps poll a few hot orders (the ones being paid): decode each cached version once per process.
    decodedMemo: 2000,
    onError: (err) => ctx.logger.warn({ err }, 'order cache unavailable; reading MySQL'),
    onResult: (result) => reads.inc({ cache: 'order_detail', result }),
  });
}

/** The order-detail cache of this context (one per process). */
export function orderDetailCache(ctx: ServiceContext) {
  let c = caches.get(ctx);
  if (!c) {
    c = build(ctx);
    caches.set(ctx, c);
  }
  return c;
}
