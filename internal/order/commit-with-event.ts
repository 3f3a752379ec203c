import type { Tx } from '../model/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { type BatchMessage, type EventMessage, txLogRows } from './events.js';
import { insertTxLog } from './repository.js';

/**
 * Stores a protected request's answer in the same DB transaction as the change it protects
 * (internal/idempotency's seal), so a retry with the same key can never make the change twice.
 */
export type Seal<T> = (tx: Tx, result: T) => Promise<void>;

/**
 * Runs `work` in one DB transaction together with the events' tx-log rows, each published as a
 * RocketMQ transaction message (internal/mq producer): the events exist on the broker exactly when the
 * change committed. The transaction refuses to commit past rocketmq.localTxMaxMs after the half message.
 */
export async function commitWithEvent<T>(
  ctx: ServiceContext,
  msg: EventMessage | BatchMessage | Array<EventMessage | BatchMessage>,
  work: (tx: Tx) => Promise<T>,
  seal?: Seal<T>,
  /**
   * Statements on rows that many transactions compete for (SKU stock), run last, just before COMMIT,
   * so their row locks are held for as short a time as possible. Throwing rolls everything back.
   */
  contended?: (tx: Tx) => Promise<void>,
): Promise<T> {
  const msgs = Array.isArray(msg) ? msg : [msg];
  const { value } = await requireMq(ctx).sendInTransaction(msgs, (ltx) =>
    ctx.db.transaction(async (tx) => {
      const value = await work(tx);
      await seal?.(tx, value);
      await insertTxLog(
        tx,
        msgs.flatMap((m) => txLogRows(() => ctx.ids.next(), m)),
      );
      await contended?.(tx);
      ltx.beforeCommit();
      return { value };
    }),
  );
  return value;
}
