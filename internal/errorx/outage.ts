/**
 * One error (not what it wraps) says a dependency is down or not answering: a lost, refused or timed-out
 * connection (MySQL, Redis, the broker), a command or call timeout.
 */
export function isOutageError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; fatal?: unknown } | undefined;
  if (e?.fatal === true) return true; // mysql2: the connection is gone
  if (
    typeof e?.code === 'string' &&
    /^(ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|PROTOCOL_|ER_SERVER_SHUTDOWN|ER_CON_COUNT_ERROR)/.test(e.code)
  ) {
    return true;
  }
  if (typeof e?.code === 'number' && (e.code === 14 || e.code === 4)) return true; // gRPC UNAVAILABLE, DEADLINE_EXCEEDED
  return /Command timed out|Connection is closed|Stream isn't writeable|connect ETIMEDOUT/i.test(
    String(e?.message ?? ''),
  );
}
