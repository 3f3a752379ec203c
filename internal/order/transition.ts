import { AppError, isRetryableLock } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { commitWithEvent, type Seal } from './commit-with-event.js';
import { orderDetailCache, orderRevision } from './detail-cache.js';
import { orderEnvelope } from './events.js';
import { HIDEABLE_STATUSES } from './hide-order.js';
import { invalidateOrderLists } from './list-cache.js';
import {
  getItems,
  getOrder,
  insertStatusLog,
  type OrderItemRow,
  type OrderRow,
  setOrderColumns,
  setOrderHidden,
  type Tx,
  updateOrderIf,
} from './repository.js';
import { decide, type OrderEvent, type OrderStatus } from './rules.js';
import { announceOrderChange } from './watch.js';

export interface Actor {
  type: 'USER' | 'ADMIN' | 'SYSTEM' | 'PROVIDER';
  id: string;
}

export interface TransitionInput {
  orderId: bigint;
  event: OrderEvent;
  actor: Actor;
  reason: string;
  /** When set, the order must belong to this user (another user's order is "not found"). */
  userId?: bigint;
  /** Extra checks on the order as read, before anything is written (throw AppError to refuse). */
  guard?: (order: OrderRow) => void;
  /** Columns to set besides status and version, and side effects in the same transaction. */
  apply?: (tx: Tx, order: OrderRow, to: OrderStatus) => Promise<Partial<OrderRow> | undefined>;
  /** Stores the caller's idempotent answer in the transition's own transaction. */
  seal?: Seal<TransitionResult>;
}

export interface TransitionResult {
  order: OrderRow;
  /** The order's items (they never change after creation), so callers return the whole order. */
  items: OrderItemRow[];
  changed: boolean;
}

const MAX_ATTEMPTS = 4;

/**
 * One order transition: a conditional UPDATE on status and version, a status-log row and the
 * outgoing event's tx-log row in one transaction, published as a RocketMQ transaction message.
 * Same-state is a no-op; an illegal one is ORDER_STATE_CONFLICT naming the current state. A lost
 * race re-reads the order and decides again.
 */
export async function transitionOrder(ctx: ServiceContext, input: TransitionInput): Promise<TransitionResult> {
  let items: OrderItemRow[] | undefined;
  for (let attempt = 1; ; attempt++) {
    const order = await getOrder(ctx.db, input.orderId);
    if (!order || (input.userId !== undefined && order.userId !== input.userId)) {
      throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
    }
    items ??= await getItems(ctx.db, order.id);
    const from = order.status as OrderStatus;
    const d = decide(from, input.event);
    if (d.kind === 'noop') return { order, items, changed: false };
    if (d.kind === 'illegal') {
      throw new AppError('ORDER_STATE_CONFLICT', `cannot ${input.event.replace('_', ' ')} an order that is ${from}`, {
        currentStatus: from,
      });
    }
    input.guard?.(order);
    const to = d.to;
    const version = order.version + 1;
    const msg = orderEnvelope(order, to, from, version, input.reason);
    try {
      const result = await commitWithEvent(
        ctx,
        msg,
        async (tx): Promise<TransitionResult> => {
          // The order row is locked first, so every transaction takes order -> SKU locks in one order,
          // and a transition that lost the race does nothing else.
          const ok = await updateOrderIf(tx, order.id, { status: from, version: order.version }, { status: to });
          if (!ok) throw new AppError('CONCURRENT_MODIFICATION', 'the order changed while this request ran; retry');
          // A hidden order that moves on (COMPLETED -> REFUNDING) is shown again: it is not finished.
          if (HIDEABLE_STATUSES.includes(from) && !HIDEABLE_STATUSES.includes(to)) {
            await setOrderHidden(tx, order.id, order.userId, false);
          }
          const extra = (await input.apply?.(tx, order, to)) ?? {};
          if (Object.keys(extra).length > 0) await setOrderColumns(tx, order.id, extra);
          await insertStatusLog(tx, {
            id: ctx.ids.next(),
            orderId: order.id,
            fromStatus: from,
            toStatus: to,
            version,
            actorType: input.actor.type,
            actorId: input.actor.id,
            reason: input.reason,
          });
          return { order: { ...order, ...extra, status: to, version } as OrderRow, items: items ?? [], changed: true };
        },
        input.seal,
      );
      serviceMetrics(ctx.metrics).orderTransitions.inc({
        status: to,
        // Bounded label: cancellations say who (USER, ADMIN, TIMEOUT); other reasons are free text.
        reason: input.event === 'cancel' ? input.reason : '',
      });
      await Promise.all([
        orderDetailCache(ctx).invalidate(order.id.toString(), orderRevision(version, 0)),
        invalidateOrderLists(ctx, [order.userId]),
        announceOrderChange(ctx, order.id, version),
      ]);
      return result;
    } catch (err) {
      const retry = (err instanceof AppError && err.code === 'CONCURRENT_MODIFICATION') || isRetryableLock(err);
      if (retry && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
  }
}
