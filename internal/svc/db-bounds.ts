import type mysql from 'mysql2/promise';
import { AppError, withDeadline } from '../errorx/index.js';

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
    const conn = await withDeadline(
      take(),
      bounds.acquireMs,
      () =>
        unavailable(`no MySQL connection within ${bounds.acquireMs} ms (mysql.acquireTimeoutMs); retry`, {
          acquireTimeoutMs: bounds.acquireMs,
        }),
      (late) => late.release(),
    );
    if (bounds.statementMs > 0) boundConnection(conn, bounds.statementMs);
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

function boundConnection(conn: Conn, ms: number): void {
  let closed: AppError | undefined;
  for (const method of ['query', 'execute'] as const) {
    const send = (conn[method] as unknown as Call).bind(conn);
    (conn as unknown as Record<string, Call>)[method] = (...args: unknown[]) => {
      if (closed) return Promise.reject(closed);
      return withDeadline(send(...args), ms, () => {
        closed = unavailable(`MySQL did not answer within ${ms} ms (mysql.statementTimeoutMs); retry`, {
          statementTimeoutMs: ms,
        });
        conn.destroy();
        return closed;
      });
    };
  }
}
