import { lt } from 'drizzle-orm';
import { consumedMessages, idempotencyKeys, mqTxLog } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface CleanupInput {
  now?: Date;
  /** Dedupe rows and tx-log rows are kept this long (default 7 days): longer than any broker redelivery. */
  keepDays?: number;
  /** Rows deleted per statement, so no single DELETE holds locks for long. */
  batchSize?: number;
}

export interface CleanupResult {
  idempotencyKeys: number;
  consumedMessages: number;
  txLog: number;
}

/** Deletes expired idempotency keys and old dedupe / tx-log rows in small batches. */
export async function cleanupExpired(ctx: ServiceContext, input: CleanupInput = {}): Promise<CleanupResult> {
  const now = input.now ?? new Date();
  const keepBefore = new Date(now.getTime() - (input.keepDays ?? 7) * 86_400_000);
  const batch = input.batchSize ?? 1000;
  const drain = async (del: () => Promise<number>) => {
    let total = 0;
    for (;;) {
      const n = await del();
      total += n;
      if (n < batch) return total;
    }
  };
  const affected = (r: unknown) => (r as [{ affectedRows: number }])[0].affectedRows;
  return {
    idempotencyKeys: await drain(async () =>
      affected(await ctx.db.delete(idempotencyKeys).where(lt(idempotencyKeys.expiresAt, now)).limit(batch)),
    ),
    consumedMessages: await drain(async () =>
      affected(await ctx.db.delete(consumedMessages).where(lt(consumedMessages.createdAt, keepBefore)).limit(batch)),
    ),
    txLog: await drain(async () =>
      affected(await ctx.db.delete(mqTxLog).where(lt(mqTxLog.createdAt, keepBefore)).limit(batch)),
    ),
  };
}
