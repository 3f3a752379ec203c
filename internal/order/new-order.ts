import type { AddressSnapshot } from '../model/index.js';
import { newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { orderDetailCache, orderRevision } from './detail-cache.js';
import { orderEnvelope } from './events.js';
import { invalidateOrderLists } from './list-cache.js';
import type { OrderItemRow, OrderRow } from './repository.js';
import { orderNoOf, type PricedLine } from './rules.js';

export type OrderSource = 'APP' | 'WEB' | 'RPC' | 'FLASHSALE';

export interface NewOrder {
  order: OrderRow;
  items: OrderItemRow[];
  /** order.created, to publish with the rows (commitWithEvent). */
  message: ReturnType<typeof orderEnvelope>;
  /** The first status-log row. */
  log: {
    id: bigint;
    orderId: bigint;
    fromStatus: string;
    toStatus: string;
    version: number;
    actorType: string;
    actorId: string;
    reason: string;
  };
}

/** The rows of a new PENDING_PAYMENT order (nothing written): id, order number, totals, deadline. */
export function newOrderRows(
  ctx: ServiceContext,
  input: {
    userId: bigint;
    lines: PricedLine[];
    itemsAmount: number;
    currency: string;
    address: AddressSnapshot;
    note?: string;
    source: OrderSource;
    actor: { type: 'USER' | 'SYSTEM'; id: string };
    now: Date;
  },
): NewOrder {
  const { now } = input;
  const id = ctx.ids.next();
  const order: OrderRow = {
    id,
    orderNo: orderNoOf(id),
    userId: input.userId,
    status: 'PENDING_PAYMENT',
    currency: input.currency,
    itemsAmount: input.itemsAmount,
    shippingFee: 0,
    discountAmount: 0,
    totalAmount: input.itemsAmount,
    paidAmount: 0,
    refundedAmount: 0,
    address: input.address,
    note: input.note ?? '',
    source: input.source,
    version: 0,
    sideRev: 0,
    payDeadline: new Date(now.getTime() + ctx.config.order.paymentTimeoutMinutes * 60_000),
    paidAt: null,
    shippedAt: null,
    deliveredAt: null,
    completedAt: null,
    cancelledAt: null,
    cancelReason: null,
    createdAt: now,
    updatedAt: now,
  };
  const items: OrderItemRow[] = input.lines.map((p) => ({ id: ctx.ids.next(), orderId: id, createdAt: now, ...p }));
  return {
    order,
    items,
    message: orderEnvelope(order, 'PENDING_PAYMENT', null, 0, 'created'),
    log: {
      id: ctx.ids.next(),
      orderId: id,
      fromStatus: '',
      toStatus: 'PENDING_PAYMENT',
      version: 0,
      actorType: input.actor.type,
      actorId: input.actor.id,
      reason: 'created',
    },
  };
}

/**
 * After new orders committed: drops not-found placeholders from the detail cache and the buyers' cached
 * list pages, and schedules the
 * order_timeout message — one per deadline, naming every order due then (a flash-sale batch shares one)
 * — best effort: the close-expired job is the backstop.
 */
export async function afterOrdersCreated(ctx: ServiceContext, created: OrderRow[]): Promise<void> {
  const counter = serviceMetrics(ctx.metrics).ordersCreated;
  for (const o of created) counter.inc({ source: o.source });
  await Promise.all([
    // A marker of the first version: a read that missed before the order existed is not joined after.
    ...created.map((o) => orderDetailCache(ctx).invalidate(o.id.toString(), orderRevision(o.version, 0))),
    invalidateOrderLists(
      ctx,
      created.map((o) => o.userId),
    ),
  ]);
  const byDeadline = new Map<number, string[]>();
  for (const o of created) {
    const ids = byDeadline.get(o.payDeadline.getTime()) ?? [];
    ids.push(o.id.toString());
    byDeadline.set(o.payDeadline.getTime(), ids);
  }
  await Promise.all(
    [...byDeadline].map(([deadline, orderIds]) =>
      requireMq(ctx)
        .send({
          topic: topics.orderTimeout.name,
          envelope: newEnvelope('order.payment_deadline', { orderIds }),
          key: orderIds[0],
          deliverAt: new Date(deadline),
        })
        .catch((err: unknown) =>
          ctx.logger.warn({ err, orderIds: orderIds.slice(0, 10) }, 'could not schedule the payment deadline'),
        ),
    ),
  );
}
