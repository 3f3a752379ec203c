import { eq } from 'drizzle-orm';
import { type Db, mqTxLog } from '../model/index.js';
import { type TxChecker, TxResolution } from './producer.js';

/**
 * The broker's check-back for a half message whose producer never said commit or rollback:
 * the tx-log row exists -> COMMIT; absent while the local transaction could still commit -> UNKNOWN
 * (ask again later); absent and older than `rollbackAfterMs` -> ROLLBACK. `rollbackAfterMs` must be
 * well above the local transaction's bound (rocketmq.localTxMaxMs), which refuses to commit past it:
 * so a rolled-back half message can never belong to a committed change.
 */
export function txLogChecker(
  db: Db,
  rollbackAfterMs: number,
  now: () => number = Date.now,
  /** Told every answer, for metrics. */
  onAnswer?: (answer: 'COMMIT' | 'ROLLBACK' | 'UNKNOWN') => void,
): TxChecker {
  const decide = async ({ eventId, bornAt }: Parameters<TxChecker>[0]) => {
    if (!eventId) return TxResolution.ROLLBACK; // not ours: no event id was ever written for it
    const rows = await db.select({ id: mqTxLog.id }).from(mqTxLog).where(eq(mqTxLog.eventId, eventId)).limit(1);
    if (rows.length > 0) return TxResolution.COMMIT;
    if (!bornAt) return TxResolution.UNKNOWN;
    return now() - bornAt.getTime() > rollbackAfterMs ? TxResolution.ROLLBACK : TxResolution.UNKNOWN;
  };
  return async (tx) => {
    const answer = await decide(tx);
    onAnswer?.(answer === TxResolution.COMMIT ? 'COMMIT' : answer === TxResolution.ROLLBACK ? 'ROLLBACK' : 'UNKNOWN');
    return answer;
  };
}
