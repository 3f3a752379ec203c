import { causeChain } from './app-error.js';

/** The MySQL error code of a failed query, looking through drizzle's wrapping (`cause`). */
export function mysqlErrorCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('ER_')) return code;
  }
  return undefined;
}

export const isDuplicateKey = (err: unknown) => mysqlErrorCode(err) === 'ER_DUP_ENTRY';
/** Deadlocks and lock wait timeouts: the transaction was rolled back and may simply be run again. */
export const isRetryableLock = (err: unknown) => {
  const code = mysqlErrorCode(err);
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
};
