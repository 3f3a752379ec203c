import { AppError, isRetryableLock } from '../errorx/index.js';
import { executeSql } from '../model/index.js';
import {
  type Actor,
  commitWithEvent,
  type EventMessage,
  getOrder,
  invalidateOrderDetail,
  type OrderRow,
  orderRevision,
  type Seal,
  type Tx,
} from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { afterSaleEnvelope } from './events.js';
import {
  type AfterSaleLineRow,
  type AfterSaleRow,
  getAfterSale,
  insertAfterSaleLog,
  linesOf,
  updateAfterSaleIf,
} from './repository.js';
import {
  type AfterSaleEvent,
  type AfterSaleKind,
  type AfterSaleStatus,
  afterSaleTransitions,
  decideAfterSale,
} from './rules.js';

export interface AfterSaleResult {
  afterSale: AfterSaleRow;
  lines: AfterSaleLineRow[];
  changed: boolean;
}

export interface AfterSaleTransitionInput {
  afterSaleId: bigint;
  /**
   * One or more steps taken together in one transaction (approve + start_refund for a refund-only
   * request), or a function of the request as read that names them.
   */
  events: AfterSaleEvent[] | ((a: AfterSaleRow) => AfterSaleEvent[]);
  actor: Actor;
  reason: string;
  /** When set, the request must belong to this user (another user's is "not found"). */
  userId?: bigint;
  /** Checks on the request and its order as locked in the transaction (throw AppError to refuse). */
  guard?: (a: AfterSaleRow, order: OrderRow) => void;
  /** Columns to set besides status and version, and writes in the same transaction. */
  apply?: (
    tx: Tx,
    a: AfterSaleRow,
    lines: AfterSaleLineRow[],
    order: OrderRow,
  ) => Promise<Partial<AfterSaleRow> | undefined>;
  /** Order events to publish with the after-sale's own (the order's refunded amount changes). */
  orderEvents?: EventMessage[];
  seal?: Seal<AfterSaleResult>;
}

/**
 * One after-sale transition (or a few steps at once): a conditional UPDATE on status and version, one
 * log row and one `aftersale.*` event per step, in one transaction that first locks the order row (and
 * counts the change in its `side_rev`, so the whole order's cache and ETag move with it). Every change to
 * an order's after-sales and refunds takes that lock first, so they serialise per order.
 */
export async function transitionAfterSale(
  ctx: ServiceContext,
  input: AfterSaleTransitionInput,
): Promise<AfterSaleResult> {
  return retryingLostRaces(async () => {
    const a = await getAfterSale(ctx.db, input.afterSaleId);
    if (!a || (input.userId !== undefined && a.userId !== input.userId)) {
      throw new AppError('AFTER_SALE_NOT_FOUND', `after-sale ${input.afterSaleId} not found`);
    }
    const lines = await linesOf(ctx.db, [a.id]);
    const path: Array<{ from: AfterSaleStatus; to: AfterSaleStatus; version: number }> = [];
    let from = a.status as AfterSaleStatus;
    const events = typeof input.events === 'function' ? input.events(a) : input.events;
    // Already where the steps lead (a retried call, or a racing one that won): nothing to do.
    if (a.status === stepsTarget(events)) return { afterSale: a, lines, changed: false };
    for (const [i, event] of events.entries()) {
      const d = decideAfterSale(a.kind as AfterSaleKind, from, event);
      if (d.kind === 'noop' && i === 0) return { afterSale: a, lines, changed: false };
      if (d.kind !== 'move') {
        throw new AppError(
          'AFTER_SALE_STATE_CONFLICT',
          `cannot ${event.replace('_', ' ')} an after-sale that is ${from}`,
          { currentStatus: a.status },
        );
      }
      path.push({ from, to: d.to, version: a.version + i + 1 });
      from = d.to;
    }
    const last = path.at(-1)!;
    return commitOnOrder(
      ctx,
      a.orderId,
      [
        ...path.map((p) => afterSaleEnvelope(a, lines, p.to, p.from, p.version, input.reason)),
        ...(input.orderEvents ?? []),
      ],
      async (tx, order): Promise<AfterSaleResult> => {
        input.guard?.(a, order);
        const ok = await updateAfterSaleIf(
          tx,
          a.id,
          { status: a.status, version: a.version },
          { status: last.to, version: last.version },
        );
        if (!ok) throw new AppError('CONCURRENT_MODIFICATION', 'the after-sale changed while this request ran; retry');
        const extra = (await input.apply?.(tx, a, lines, order)) ?? {};
        if (Object.keys(extra).length > 0)
          await updateAfterSaleIf(tx, a.id, { status: last.to, version: last.version }, extra);
        await insertAfterSaleLog(
          tx,
          path.map((p) => ({
            id: ctx.ids.next(),
            afterSaleId: a.id,
            fromStatus: p.from,
            toStatus: p.to,
            version: p.version,
            actorType: input.actor.type,
            actorId: input.actor.id,
            reason: input.reason.slice(0, 200),
          })),
        );
        return {
          afterSale: { ...a, ...extra, status: last.to, version: last.version, updatedAt: new Date() },
          lines,
          changed: true,
        };
      },
      input.seal,
    );
  });
}

const MAX_ATTEMPTS = 4;

/**
 * Runs `attempt` (its reads, then its transaction) again when it lost a race: CONCURRENT_MODIFICATION,
 * a lock wait timeout or a deadlock, at most MAX_ATTEMPTS times in all.
 */
export async function retryingLostRaces<T>(attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const retry = (err instanceof AppError && err.code === 'CONCURRENT_MODIFICATION') || isRetryableLock(err);
      if (!retry || n >= MAX_ATTEMPTS) throw err;
    }
  }
}

/**
 * The frame of every after-sale change: one transaction with its events (commitWithEvent) that locks the
 * order row first (lockOrder: one more side change), runs `work`, and stores the caller's idempotent
 * answer; after the commit the cached whole order is dropped at the revision the change committed, so a
 * fill loaded before it is refused.
 */
export async function commitOnOrder<T>(
  ctx: ServiceContext,
  orderId: bigint,
  events: EventMessage[],
  work: (tx: Tx, order: OrderRow) => Promise<T>,
  seal?: Seal<T>,
): Promise<T> {
  const { result, revision } = await commitWithEvent(
    ctx,
    events,
    async (tx) => {
      const result = await work(tx, await lockOrder(tx, orderId));
      const after = (await getOrder(tx, orderId))!;
      return { result, revision: orderRevision(after.version, after.sideRev) };
    },
    seal && ((tx, r) => seal(tx, r.result)),
  );
  await invalidateOrderDetail(ctx, orderId, revision);
  return result;
}

/** The state a run of steps ends in (each step's target, the next taken from there). */
function stepsTarget(events: AfterSaleEvent[]): AfterSaleStatus | undefined {
  let at: AfterSaleStatus | undefined;
  for (const e of events) {
    const rows = Object.values(afterSaleTransitions);
    at = at === undefined ? rows.find((r) => r[e])?.[e] : afterSaleTransitions[at][e];
    if (at === undefined) return undefined;
  }
  return at;
}

/**
 * Locks the order row (counting one more side change) and reads it: the first statement of every
 * after-sale transaction, so after-sales, refunds and order transitions of one order take their locks in
 * one order and see each other's commits.
 */
export async function lockOrder(tx: Tx, orderId: bigint): Promise<OrderRow> {
  await executeSql(tx, 'UPDATE orders SET side_rev = side_rev + 1 WHERE id = ?', [orderId]);
  const order = await getOrder(tx, orderId);
  if (!order) throw new AppError('ORDER_NOT_FOUND', `order ${orderId} not found`);
  return order;
}
