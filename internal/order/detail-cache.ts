import { cacheAside } from '../cache/index.js';
import type { ServiceContext } from '../svc/index.js';
import type { OrderItemRow, OrderRow } from './repository.js';

export interface OrderDetail {
  order: OrderRow;
  items: OrderItemRow[];
}

const DATE_FIELDS = [
  'payDeadline',
  'paidAt',
  'shippedAt',
  'deliveredAt',
  'completedAt',
  'cancelledAt',
  'createdAt',
  'updatedAt',
] as const;

function encode(d: OrderDetail): string {
  return JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

function decode(s: string): OrderDetail {
  const d = JSON.parse(s, (_k, v) =>
    typeof v === 'string' && /^\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
  ) as OrderDetail;
  const order = d.order as unknown as Record<string, unknown>;
  for (const f of DATE_FIELDS) if (typeof order[f] === 'string') order[f] = new Date(order[f] as string);
  for (const i of d.items) i.createdAt = new Date(i.createdAt);
  return d;
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
