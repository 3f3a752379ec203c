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
import type { OrderStatus } from './rules.js';
import { announceOrderChange } from './watch.js';

export interface Actor {
  type: 'USER' | 'ADMIN' | 'SYSTEM' | 'PROVIDER';
  id: string;
}

export interface TransitionResult {
  order: OrderRow;
  /** The order's items (they never change after creation), so callers return the whole order. */
  items: OrderItemRow[];
  changed: boolean;
}

/**
 * What a change does to the order as read: nothing (it is already done), or a new version in `to` (the
 * same status for a change that keeps it: an amendment, one more parcel) published as `type`.
 */
export type OrderPlan =
  | { kind: 'noop' }
  | {
      kind: 'move';
      to: OrderStatus;
      type?: string;
      set?: Partial<OrderRow>;
      /** The history line and the event's reason, when the plan words it (otherwise the input's). */
      reason?: string;
      metricReason?: string;
    };

export interface OrderChangeInput {
  orderId: bigint;
  actor: Actor;
  /** For the status history and the event. */
  reason: string;
  /** When set, the order must belong to this user (another user's order is "not found"). */
  userId?: bigint;
  /** Decides from the order as read (throw AppError to refuse). May read more; it runs outside the transaction. */
  plan: (order: OrderRow, items: OrderItemRow[]) => OrderPlan | Promise<OrderPlan>;
  /**
   * Writes in the same transaction, after the order row is locked by its conditional UPDATE, and columns
   * to set besides status and version. Throw CONCURRENT_MODIFICATION when what `plan` read has moved.
   */
  apply?: (tx: Tx, order: OrderRow, to: OrderStatus) => Promise<Partial<OrderRow> | undefined>;
  /** Stores the caller's idempotent answer in the change's own transaction. */
  seal?: Seal<TransitionResult>;
}

const MAX_ATTEMPTS = 4;

/**
 * One change of an order: a conditional UPDATE on status and version, a status-log row and the outgoing
 * event's tx-log row in one transaction, published as a RocketMQ transaction message; then the cached
 * order and lists are dropped and watchers told. A lost race re-reads the order and plans again.
 * transitionOrder (the state machine's moves) and the amendments are both this.
 */
export async function changeOrder(ctx: ServiceContext, input: OrderChangeInput): Promise<TransitionResult> {
  let items: OrderItemRow[] | undefined;
  for (let attempt = 1; ; attempt++) {
    const order = await getOrder(ctx.db, input.orderId);
    if (!order || (input.userId !== undefined && order.userId !== input.userId)) {
      throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
    }
    items ??= await getItems(ctx.db, order.id);
    const plan = await input.plan(order, items);
    if (plan.kind === 'noop') return { order, items, changed: false };
    const from = order.status as OrderStatus;
    const { to, set = {} } = plan;
    const reason = (plan.reason ?? input.reason).slice(0, 200);
    const version = order.version + 1;
    const msg = orderEnvelope({ ...order, ...set }, to, from, version, reason, plan.type);
    try {
      const result = await commitWithEvent(
        ctx,
        msg,
        async (tx): Promise<TransitionResult> => {
          // The order row is locked first, so every transaction takes order -> SKU locks in one order,
          // and a change that lost the race does nothing else.
          const ok = await updateOrderIf(
            tx,
            order.id,
            { status: from, version: order.version },
            { ...set, status: to },
          );
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
            reason,
          });
          const changed = { ...order, ...set, ...extra, status: to, version } as OrderRow;
          return { order: changed, items: items ?? [], changed: true };
        },
        input.seal,
      );
      if (to !== from)
        serviceMetrics(ctx.metrics).orderTransitions.inc({ status: to, reason: plan.metricReason ?? '' });
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
