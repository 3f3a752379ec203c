import { cacheAside } from '../cache/index.js';
import type { ServiceContext } from '../svc/index.js';
import type { OrderItemRow, OrderRow } from './repository.js';

export interface OrderDetail {
  order: OrderRow;
  items: OrderItemRow[];
}

const ORDER_DATES = [
  'payDeadline',
  'paidAt',
  'shippedAt',
  'deliveredAt',
  'completedAt',
  'cancelledAt',
  'createdAt',
  'updatedAt',
] as const;

// JSON has no bigint: the id columns are written as decimal strings and read back by name, so any other
// string (a note of "7n", say) comes back exactly as it went in.
function encode(d: OrderDetail): string {
  return JSON.stringify({
    order: { ...d.order, id: String(d.order.id), userId: String(d.order.userId) },
    items: d.items.map((i) => ({ ...i, id: String(i.id), orderId: String(i.orderId), skuId: String(i.skuId) })),
  });
}

function decode(s: string): OrderDetail {
  const raw = JSON.parse(s) as { order: Record<string, unknown>; items: Array<Record<string, unknown>> };
  const order: Record<string, unknown> = {
    ...raw.order,
    id: BigInt(raw.order.id as string),
    userId: BigInt(raw.order.userId as string),
  };
  for (const f of ORDER_DATES) if (typeof order[f] === 'string') order[f] = new Date(order[f] as string);
  const items = raw.items.map((i) => ({
    ...i,
    id: BigInt(i.id as string),
    orderId: BigInt(i.orderId as string),
    skuId: BigInt(i.skuId as string),
    createdAt: new Date(i.createdAt as string),
  }));
  return { order: order as unknown as OrderRow, items: items as unknown as OrderItemRow[] };
}

const caches = new WeakMap<ServiceContext, ReturnType<typeof build>>();

function build(ctx: ServiceContext) {
  return cacheAside<OrderDetail>(ctx.redis, {
    prefix: 'order:detail:',
    ttlSeconds: 60,
    jitterSeconds: 30,
    notFoundTtlSeconds: 5,
    encode,
    decode,
    versionOf: (d) => d.order.version,
    onError: (err) => ctx.logger.warn({ err }, 'order cache unavailable; reading MySQL'),
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
