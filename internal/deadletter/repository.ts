import { and, asc, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import { affectedRows, type Db, deadLetters, type Tx } from '../model/index.js';

export type DeadLetterRow = typeof deadLetters.$inferSelect;
export type DeadLetterStatus = 'PARKED' | 'REPLAYED' | 'RESOLVED';

/**
 * Records a failed message, once per (group, message id): a second failure of the same message (a
 * replay that failed again, or the DLQ copy of a message) updates the row instead of adding one.
 */
export async function upsertDeadLetter(tx: Tx, row: typeof deadLetters.$inferInsert) {
  await tx
    .insert(deadLetters)
    .values(row)
    .onDuplicateKeyUpdate({
      set: {
        attempts: sql`${deadLetters.attempts} + 1`,
        errorCode: sql`VALUES(${deadLetters.errorCode})`,
        errorMessage: sql`VALUES(${deadLetters.errorMessage})`,
        lastSeenAt: sql`VALUES(${deadLetters.lastSeenAt})`,
        status: 'PARKED',
        resolvedAt: null,
      },
    });
}

/** A replayed letter failed permanently again: back to PARKED with the new error. */
export async function reparkDeadLetter(tx: Tx, id: bigint, error: { code: string; message: string }, at: Date) {
  await tx
    .update(deadLetters)
    .set({
      status: 'PARKED',
      errorCode: error.code,
      errorMessage: error.message.slice(0, 500),
      attempts: sql`${deadLetters.attempts} + 1`,
      lastSeenAt: at,
    })
    .where(eq(deadLetters.id, id));
}

export async function getDeadLetters(tx: Tx, ids: bigint[]): Promise<DeadLetterRow[]> {
  if (ids.length === 0) return [];
  return tx.select().from(deadLetters).where(inArray(deadLetters.id, ids)).orderBy(asc(deadLetters.id));
}

export interface DeadLetterFilter {
  topic?: string;
  status?: DeadLetterStatus;
  afterId?: bigint;
  limit: number;
}

export async function listDeadLetters(tx: Tx, f: DeadLetterFilter): Promise<DeadLetterRow[]> {
  const conds: SQL[] = [];
  if (f.topic) conds.push(eq(deadLetters.topic, f.topic));
  if (f.status) conds.push(eq(deadLetters.status, f.status));
  if (f.afterId !== undefined) conds.push(gt(deadLetters.id, f.afterId));
  return tx
    .select()
    .from(deadLetters)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(asc(deadLetters.id))
    .limit(f.limit);
}

export async function markReplayed(tx: Tx, id: bigint): Promise<boolean> {
  const r = await tx
    .update(deadLetters)
    .set({ status: 'REPLAYED', replayCount: sql`${deadLetters.replayCount} + 1` })
    .where(and(eq(deadLetters.id, id), inArray(deadLetters.status, ['PARKED', 'REPLAYED'])));
  return affectedRows(r) === 1;
}

/** Undoes markReplayed after its send failed: the letter is PARKED again (unless a consumer settled it meanwhile). */
export async function revertReplayed(tx: Tx, id: bigint): Promise<void> {
  await tx
    .update(deadLetters)
    .set({ status: 'PARKED', replayCount: sql`GREATEST(${deadLetters.replayCount} - 1, 0)` })
    .where(and(eq(deadLetters.id, id), eq(deadLetters.status, 'REPLAYED')));
}

export async function markResolved(tx: Tx, id: bigint, at: Date): Promise<boolean> {
  const r = await tx
    .update(deadLetters)
    .set({ status: 'RESOLVED', resolvedAt: at })
    .where(and(eq(deadLetters.id, id), eq(deadLetters.status, 'REPLAYED')));
  return affectedRows(r) === 1;
}

/** Open (not resolved) letters per topic and source, for the metrics gauge and `dlq list`. */
export async function countOpenDeadLetters(tx: Db) {
  return tx
    .select({ topic: deadLetters.topic, source: deadLetters.source, n: sql<string>`COUNT(*)` })
    .from(deadLetters)
    .where(inArray(deadLetters.status, ['PARKED', 'REPLAYED']))
    .groupBy(deadLetters.topic, deadLetters.source);
}
