import { hash as digest } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import { AppError, type ErrorCode, isDuplicateKey } from '../errorx/index.js';
import { affectedRows, executeSql, idempotencyKeys, type Tx } from '../model/index.js';
import { goneFromThisHost, type ProcessId, type ServiceContext, thisProcess } from '../svc/index.js';
import { withoutPersonal, withPersonal } from './personal.js';

export const KEEP_MS = 24 * 3600_000;
/**
 * An IN_FLIGHT record older than this belongs to a request whose process died (or that is too slow to
 * matter): a retry may take it over. Safe at any age: a request whose claim was taken over cannot seal
 * its change (the seal checks `claimedAt` inside the change's transaction and rolls it back), and the
 * routes that do not seal are transitions a second run leaves as they are. Kept above the longest a
 * request can legitimately run (a transaction message's local transaction is refused after
 * rocketmq.localTxMaxMs, 10 s; row locks wait at most mysql.lockWaitTimeoutSeconds, 5 s), so a live
 * request is not raced; short enough that a client retrying after a crash is answered within a minute.
 * A claim whose process is known to be gone (killed on this host: ./svc/process-id.ts) is taken over at
 * once, so a caller that fails over to another instance on the same host is not kept waiting.
 */
export const STALE_IN_FLIGHT_MS = 20_000;

/** `claimedAt` identifies this claim of the key: a stale takeover writes a new one. */
export type Begin = { kind: 'new'; claimedAt: Date } | { kind: 'replay'; status: number; body: string };

export const requestHash = (parts: unknown) => digest('sha256', JSON.stringify(parts), 'hex');

/**
 * Claims (scope, key) for a request with this body hash. Same key and body after completion replays the
 * stored response; a different body is IDEMPOTENCY_KEY_REUSED (422); a request still in flight with
 * the key is IDEMPOTENCY_KEY_IN_FLIGHT (409).
 */
export async function beginIdempotent(
  ctx: ServiceContext,
  scope: string,
  key: string,
  hash: string,
  now = new Date(),
): Promise<Begin> {
  if (!/^[\w.:-]{8,128}$/.test(key)) {
    throw new AppError('VALIDATION_FAILED', 'idempotency key must be 8-128 characters of letters, digits, _ . : -');
  }
  try {
    await executeSql(
      ctx.db,
      "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, holder, created_at, expires_at) VALUES (?, ?, ?, 'IN_FLIGHT', ?, ?, ?)",
      [scope, key, hash, HOLDER, now, new Date(now.getTime() + KEEP_MS)],
    );
    return { kind: 'new', claimedAt: now };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const [row] = await ctx.db
    .select()
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  if (!row) return beginIdempotent(ctx, scope, key, hash, now); // expired and cleaned meanwhile
  if (row.requestHash !== hash) {
    throw new AppError(
      'IDEMPOTENCY_KEY_REUSED',
      'this idempotency key was used with a different request; use a new key',
    );
  }
  if (row.status === 'DONE') return { kind: 'replay', status: row.responseStatus ?? 200, body: row.responseBody ?? '' };
  const stale = row.createdAt.getTime() < now.getTime() - STALE_IN_FLIGHT_MS || holderGone(row.holder);
  if (stale) {
    if (await takeOverClaim(ctx, scope, key, row.createdAt, now)) return { kind: 'new', claimedAt: now };
    // It completed (or was taken over) since it was read: answer as the row says now.
    return beginIdempotent(ctx, scope, key, hash, now);
  }
  throw new AppError(
    'IDEMPOTENCY_KEY_IN_FLIGHT',
    'a request with this idempotency key is still being processed; retry shortly',
  );
}

const HOLDER = JSON.stringify(thisProcess);

function holderGone(holder: string | null): boolean {
  if (!holder) return false;
  try {
    return goneFromThisHost(JSON.parse(holder) as Partial<ProcessId>);
  } catch {
    return false;
  }
}

/**
 * Takes over a stale claim: only while the key is still IN_FLIGHT under the claim that was read. A
 * claim that completed meanwhile (DONE) is never reopened, so its request is not run twice.
 */
export async function takeOverClaim(
  ctx: ServiceContext,
  scope: string,
  key: string,
  seenClaimedAt: Date,
  now: Date,
): Promise<boolean> {
  const r = await ctx.db
    .update(idempotencyKeys)
    .set({ createdAt: now, holder: HOLDER })
    .where(ownedBy(scope, key, seenClaimedAt));
  return affectedRows(r) === 1;
}

/** Stores the response to replay. */
export async function completeIdempotent(
  ctx: ServiceContext,
  scope: string,
  key: string,
  status: number,
  body: string,
  claimedAt?: Date,
) {
  await ctx.db
    .update(idempotencyKeys)
    .set({ status: 'DONE', responseStatus: status, responseBody: body })
    .where(ownedBy(scope, key, claimedAt));
}

/**
 * Forgets a key whose request failed for a transient reason (5xx), so the client may retry with it. With
 * `claimedAt`, only while this request still holds the claim (a retry may have taken it over).
 */
export async function abandonIdempotent(ctx: ServiceContext, scope: string, key: string, claimedAt?: Date) {
  await ctx.db.delete(idempotencyKeys).where(ownedBy(scope, key, claimedAt));
}

/** The key's IN_FLIGHT row, and with `claimedAt` only the row of that claim. */
function ownedBy(scope: string, key: string, claimedAt?: Date) {
  return and(
    eq(idempotencyKeys.scope, scope),
    eq(idempotencyKeys.key, key),
    eq(idempotencyKeys.status, 'IN_FLIGHT'),
    claimedAt ? eq(idempotencyKeys.createdAt, claimedAt) : undefined,
  );
}

interface Stored<T> {
  ok?: T;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Stores the answer to replay inside the transaction of the change it protects, so the key is DONE
 * exactly when the change committed: a crash after the commit cannot let a retry make it twice. It
 * refuses (CONCURRENT_MODIFICATION, rolling the change back) when this request no longer owns the key
 * (a retry took over a claim it thought was stale).
 */
export type IdempotencySeal<T> = (tx: Tx, value: T) => Promise<void>;

/**
 * Runs `run` at most once per (scope, key, request hash) for every transport: the first outcome (a
 * JSON-serializable value, or an AppError that retrying cannot change) is stored (without the buyer's
 * phone and street, which a replay reads back from the order: ./personal.ts) and replayed; a
 * transient failure (internal, unavailable, a conflict that may clear) forgets the key so the caller
 * can retry it. `run` should pass `seal` to its use case so the answer commits with the change.
 */
export async function runIdempotent<T>(
  ctx: ServiceContext,
  claim: { scope: string; key: string; hash: string },
  run: (seal: IdempotencySeal<T>) => Promise<T>,
): Promise<{ value: T; replayed: boolean }> {
  const { scope, key, hash } = claim;
  const begun = await beginIdempotent(ctx, scope, key, hash);
  if (begun.kind === 'replay') {
    const stored = (await withPersonal(ctx.db, JSON.parse(begun.body))) as Stored<T>;
    if (stored.error) throw new AppError(stored.error.code as ErrorCode, stored.error.message, stored.error.details);
    return { value: stored.ok as T, replayed: true };
  }
  let sealed = false;
  const seal: IdempotencySeal<T> = async (tx, value) => {
    // Plain SQL: every protected create runs it (internal/model/plain-sql.ts).
    const r = await executeSql(
      tx,
      "UPDATE idempotency_keys SET status = 'DONE', response_status = 200, response_body = ? WHERE scope = ? AND idem_key = ? AND status = 'IN_FLIGHT' AND created_at = ?",
      [JSON.stringify({ ok: withoutPersonal(value) } satisfies Stored<T>), scope, key, begun.claimedAt],
    );
    if (r.affectedRows !== 1) {
      throw new AppError('IDEMPOTENCY_KEY_IN_FLIGHT', 'another request took over this idempotency key; retry shortly');
    }
    sealed = true;
  };
  try {
    const value = await run(seal);
    if (!sealed) {
      await completeIdempotent(
        ctx,
        scope,
        key,
        200,
        JSON.stringify({ ok: withoutPersonal(value) } satisfies Stored<T>),
        begun.claimedAt,
      );
    }
    return { value, replayed: false };
  } catch (err) {
    // Sealed and committed: the answer is stored with the change; nothing to undo. (Sealed inside a
    // transaction that then rolled back leaves the key IN_FLIGHT, handled like any failure below.)
    if (sealed && (await keyStatus(ctx, scope, key)) === 'DONE') throw err;
    if (err instanceof AppError && isFinal(err)) {
      const error = { code: err.code, message: err.message, details: err.details };
      await completeIdempotent(ctx, scope, key, 400, JSON.stringify({ error } satisfies Stored<T>), begun.claimedAt);
    } else {
      await abandonIdempotent(ctx, scope, key, begun.claimedAt).catch(() => {});
    }
    throw err;
  }
}

async function keyStatus(ctx: ServiceContext, scope: string, key: string) {
  const [row] = await ctx.db
    .select({ status: idempotencyKeys.status })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
  return row?.status;
}

/** Refusals that a retry with the same request would get again; anything else may clear. */
const isFinal = (err: AppError) =>
  err.kind !== 'internal' && err.kind !== 'unavailable' && err.kind !== 'conflict' && err.kind !== 'rate_limited';
