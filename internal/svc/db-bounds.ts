import type mysql from 'mysql2/promise';
import { AppError, withDeadline } from '../errorx/index.js';
import { requestMsLeft } from './request-deadline.js';

export interface SqlBounds {
  /** Longest one statement may take from being sent to its answer; 0: no bound. */
  statementMs: number;
  /** Longest a caller waits for a pool connection. */
  acquireMs: number;
}

type Conn = mysql.PoolConnection;
type Call = (...args: unknown[]) => Promise<unknown>;

const unavailable = (message: string, details: Record<string, unknown>) =>
  new AppError('DEPENDENCY_UNAVAILABLE', message, details);

/** A wait's own bound, or what is left of the request's deadline (request-deadline.ts) if less. */
function boundOf(ownMs: number): { ms: number; byRequest: boolean } {
  const left = requestMsLeft();
  if (left === undefined || (ownMs > 0 && left >= ownMs)) return { ms: ownMs, byRequest: false };
  return { ms: Math.max(0, left), byRequest: true };
}

const requestDeadlinePassed = (what: string) =>
  unavailable(`the request's deadline passed while it ${what}; retry`, { requestDeadline: true });

/**
 * Every wait on MySQL ends: a caller gets a connection within `acquireMs` and each statement's answer
 * within `statementMs`, or DEPENDENCY_UNAVAILABLE. mysql2 bounds neither (a stalled server holds the
 * caller and its connection until it answers, and the pool's queue waits behind them).
 *
 * A statement past its bound closes its connection: the server rolls back a transaction open on it
 * (unless the statement was its COMMIT, whose outcome is then unknown, as for any lost connection), and
 * the connection never goes back to the pool with a statement still running. Anything else sent on that
 * connection fails at once, so the ROLLBACK drizzle tries next does not wait a second time.
 *
 * Applied to the pool in place, before drizzle and the client spans wrap it (internal/svc/db.ts).
 */
export function boundPool(pool: mysql.Pool, bounds: SqlBounds): void {
  const take = pool.getConnection.bind(pool);
  const acquire = async (): Promise<Conn> => {
    const bound = boundOf(bounds.acquireMs);
    if (bound.ms === 0) throw requestDeadlinePassed('waited for MySQL');
    const conn = await withDeadline(
      take(),
      bound.ms,
      () =>
        bound.byRequest
          ? requestDeadlinePassed('waited for a MySQL connection')
          : unavailable(`no MySQL connection within ${bounds.acquireMs} ms (mysql.acquireTimeoutMs); retry`, {
              acquireTimeoutMs: bounds.acquireMs,
            }),
      (late) => late.release(),
    );
    boundConnection(conn, bounds.statementMs);
    return conn;
  };
  pool.getConnection = acquire;
  // Statements outside a transaction: on a connection of their own, released when answered.
  for (const method of ['query', 'execute'] as const) {
    (pool as unknown as Record<string, Call>)[method] = async (...args: unknown[]) => {
      const conn = await acquire();
      try {
        return await (conn[method] as unknown as Call)(...args);
      } finally {
        conn.release();
      }
    };
  }
}

/** `ms`: mysql.statementTimeoutMs, 0 for none (then only a request's deadline bounds a statement). */
function boundConnection(conn: Conn, ms: number): void {
  let closed: AppError | undefined;
  for (const method of ['query', 'execute'] as const) {
    const send = (conn[method] as unknown as Call).bind(conn);
    (conn as unknown as Record<string, Call>)[method] = (...args: unknown[]) => {
      if (closed) return Promise.reject(closed);
      const bound = boundOf(ms);
      if (bound.ms === 0 && !bound.byRequest) return send(...args);
      const cut = () => {
        closed = bound.byRequest
          ? requestDeadlinePassed('waited for MySQL to answer')
          : unavailable(`MySQL did not answer within ${ms} ms (mysql.statementTimeoutMs); retry`, {
              statementTimeoutMs: ms,
            });
        conn.destroy();
        return closed;
      };
      if (bound.ms === 0) return Promise.reject(cut());
      return withDeadline(send(...args), bound.ms, cut);
    };
  }
}
