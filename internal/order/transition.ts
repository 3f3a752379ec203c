import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type Actor, changeOrder, type TransitionResult } from './change.js';
import type { Seal } from './commit-with-event.js';
import type { OrderRow, Tx } from './repository.js';
import { decide, type OrderEvent, type OrderStatus } from './rules.js';

export type { Actor, TransitionResult } from './change.js';

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

/**
 * One move of the state machine (rules.ts) as one order change (changeOrder). Same-state is a no-op; an
 * illegal one is ORDER_STATE_CONFLICT naming the current state.
 */
export function transitionOrder(ctx: ServiceContext, input: TransitionInput): Promise<TransitionResult> {
  return changeOrder(ctx, {
    ...input,
    plan: (order) => {
      const from = order.status as OrderStatus;
      const d = decide(from, input.event);
      if (d.kind === 'noop') return d;
      if (d.kind === 'illegal') {
        throw new AppError('ORDER_STATE_CONFLICT', `cannot ${input.event.replace('_', ' ')} an order that is ${from}`, {
          currentStatus: from,
        });
      }
      input.guard?.(order);
      // Bounded label: cancellations say who (USER, ADMIN, TIMEOUT); other reasons are free text.
      return { kind: 'move', to: d.to, metricReason: input.event === 'cancel' ? input.reason : '' };
    },
  });
}
