import { eq } from 'drizzle-orm';
import { mqTxLog } from '../model/index.js';
import type { Db } from '../svc/index.js';
import { type TxChecker, TxResolution } from './producer.js';

/** A half message older than this with no tx-log row belongs to a local transaction that never committed. */
export const ROLLBACK_AFTER_MS = 60_000;

/** The broker's check-back: the tx-log row exists -> commit; absent and old -> rollback; absent and young -> ask again. */
export function txLogChecker(db: Db, now: () => number = Date.now, rollbackAfterMs = ROLLBACK_AFTER_MS): TxChecker {
  return async ({ eventId, bornAt }) => {
    if (!eventId) return TxResolution.ROLLBACK;
    const rows = await db.select({ id: mqTxLog.id }).from(mqTxLog).where(eq(mqTxLog.eventId, eventId)).limit(1);
    if (rows.length > 0) return TxResolution.COMMIT;
    const age = bornAt ? now() - bornAt.getTime() : Number.POSITIVE_INFINITY;
    return age > rollbackAfterMs ? TxResolution.ROLLBACK : TxResolution.UNKNOWN;
  };
}
