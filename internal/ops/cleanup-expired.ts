import { and, eq, lt } from 'drizzle-orm';
import { affectedRows, deadLetters, idempotencyKeys, mqTxLog } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface CleanupInput {
  now?: Date;
  /** Tx-log rows and resolved dead letters are kept this long (default 7 days): longer than any broker redelivery. */
  keepDays?: number;
  /** Rows deleted per statement, so no single DELETE holds locks for long. */
  batchSize?: number;
}

export interface CleanupResult {
  idempotencyKeys: number;
  txLog: number;
  resolvedDeadLetters: number;
}

/** Deletes expired idempotency keys, old tx-log rows and old resolved dead letters in small batches. */
export async function cleanupExpired(ctx: ServiceContext, input: CleanupInput = {}): Promise<CleanupResult> {
  const now = input.now ?? new Date();
  const keepBefore = new Date(now.getTime() - (input.keepDays ?? 7) * 86_400_000);
  const batch = input.batchSize ?? 1000;
  const drain = async (del: () => Promise<unknown>) => {
    let total = 0;
    for (;;) {
      const n = affectedRows(await del());
      total += n;
      if (n < batch) return total;
    }
  };
  return {
    idempotencyKeys: await drain(() =>
      ctx.db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).limit(batch),
    ),
    txLog: await drain(() => ctx.db.delete(mqTxLog).where(lt(mqTxLog.createdAt, keepBefore)).limit(batch)),
    resolvedDeadLetters: await drain(() =>
      ctx.db
        .delete(deadLetters)
        .where(and(eq(deadLetters.status, 'RESOLVED'), lt(deadLetters.resolvedAt, keepBefore)))
        .limit(batch),
    ),
  };
}
