import type { ResultSetHeader } from 'mysql2';
import type { Tx } from './handle.js';

/** What a plain statement runs on: the pool, or the connection of an open transaction. */
interface Client {
  query(sql: string, values: unknown[]): Promise<unknown>;
}

/**
 * The mysql2 client under a drizzle handle: the pool under `ctx.db`, the transaction's own connection
 * under a `tx`. Building a statement with drizzle's query builder costs 30-70 µs of CPU (an order's
 * INSERT, 24 columns, is the dearest); the few statements every order creation runs are written as
 * plain SQL and sent here instead (docs/decisions.md, "Plain SQL on the create path").
 *
 * drizzle keeps the client on its session and does not type it (`db.$client` exists only on the
 * database, not on a transaction): checked here and by test/order-core.test.ts, so a drizzle upgrade
 * that moves it fails loudly rather than running a statement outside its transaction.
 */
function clientOf(tx: Tx): Client {
  const client = (tx as unknown as { session?: { client?: Client } }).session?.client;
  if (typeof client?.query !== 'function') {
    throw new Error(
      'drizzle-orm no longer keeps its mysql2 client at session.client: update internal/model/plain-sql.ts',
    );
  }
  return client;
}

/**
 * Runs one INSERT, UPDATE or DELETE written as plain SQL with `?` placeholders on the handle's
 * connection. Values go through mysql2's escaping (a nested array after `VALUES ?` is a list of rows;
 * Dates are written in UTC, the pool's timezone).
 */
export async function executeSql(tx: Tx, sql: string, values: unknown[]): Promise<ResultSetHeader> {
  const [header] = (await clientOf(tx).query(sql, values)) as [ResultSetHeader];
  return header;
}

/**
 * Runs one SELECT written as plain SQL on the handle's connection. Rows come as mysql2 gives them:
 * BIGINT as a string (the pool's bigNumberStrings), DATETIME as a Date; the caller maps them.
 */
export async function selectSql<Row>(tx: Tx, sql: string, values: unknown[]): Promise<Row[]> {
  const [rows] = (await clientOf(tx).query(sql, values)) as [Row[]];
  return rows;
}
