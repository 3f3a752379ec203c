import type { Tx } from '../model/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { type orderEnvelope, txLogRow } from './events.js';
import { insertTxLog } from './repository.js';

/**
 * Stores a protected request's answer in the same DB transaction as the change it protects
 * (internal/idempotency's seal), so a retry with the same key can never make the change twice.
 */
export type Seal<T> = (tx: Tx, result: T) => Promise<void>;

/**
 * Runs `work` in one DB transaction together with the event's tx-log row, published as a RocketMQ
 * transaction message (internal/mq producer): the event exists on the broker exactly when the change
 * committed. The transaction refuses to commit past rocketmq.localTxMaxMs after the half message.
 */
export async function commitWithEvent<T>(
  ctx: ServiceContext,
  msg: ReturnType<typeof orderEnvelope>,
  work: (tx: Tx) => Promise<T>,
  seal?: Seal<T>,
): Promise<T> {
  const { value } = await requireMq(ctx).sendInTransaction(msg, (ltx) =>
    ctx.db.transaction(async (tx) => {
      const value = await work(tx);
      await seal?.(tx, value);
      await insertTxLog(tx, txLogRow(ctx.ids.next(), msg));
      ltx.beforeCommit();
      return { value };
    }),
  );
  return value;
}
