import { cacheAside } from '../cache/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import type { OrderItemRow, OrderRow } from './repository.js';
import { itemFromJson, itemToJson, orderFromJson, orderToJson } from './row-codec.js';

export interface OrderDetail {
  order: OrderRow;
  items: OrderItemRow[];
}

function encode(d: OrderDetail): string {
  return JSON.stringify({ order: orderToJson(d.order), items: d.items.map(itemToJson) });
}

function decode(s: string): OrderDetail {
  const raw = JSON.parse(s) as { order: Record<string, unknown>; items: Array<Record<string, unknown>> };
  return { order: orderFromJson(raw.order), items: raw.items.map(itemFromJson) };
}

const caches = new WeakMap<ServiceContext, ReturnType<typeof build>>();

function build(ctx: ServiceContext) {
  const reads = serviceMetrics(ctx.metrics).cache;
  return cacheAside<OrderDetail>(ctx.redis, {
    prefix: 'order:detail:',
    ttlSeconds: 60,
    jitterSeconds: 30,
    notFoundTtlSeconds: 5,
    encode,
    decode,
    versionOf: (d) => d.order.version,
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
