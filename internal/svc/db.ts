import { drizzle } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import type { Config } from '../config/index.js';
import { type Db, tables as schema } from '../model/index.js';
import { boundPool } from './db-bounds.js';

export type { Db };
export type Pool = mysql.Pool;

/**
 * mysql2 pool + drizzle. BIGINTs come back as strings (never rounded through a double) and every
 * session runs in UTC so DEFAULT CURRENT_TIMESTAMP(3) and the app's Dates agree. Waits for a connection
 * and for each statement's answer are bounded (internal/svc/db-bounds.ts).
 */
export async function openDatabase(cfg: Config['mysql']): Promise<{ pool: Pool; db: Db }> {
  const pool = mysql.createPool({
    host: cfg.host,
    port: cfg.port,
    user: cfg.user,
    password: cfg.password,
    database: cfg.database,
    connectionLimit: cfg.poolSize,
    waitForConnections: true,
    queueLimit: 0,
    supportBigNumbers: true,
    bigNumberStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4_unicode_ci',
    connectTimeout: 5000,
    enableKeepAlive: true,
  });
  pool.pool.on('connection', (conn) => {
    // innodb_lock_wait_timeout bounds how long one statement waits for a row lock (the default is
    // 50 s), which keeps a transaction message's local transaction well inside its time bound.
    conn.query(`SET time_zone = '+00:00', innodb_lock_wait_timeout = ${cfg.lockWaitTimeoutSeconds}`);
  });
  boundPool(pool, { statementMs: cfg.statementTimeoutMs, acquireMs: cfg.acquireTimeoutMs });
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => {});
    throw new Error(
      `cannot use MySQL database '${cfg.database}' at ${cfg.host}:${cfg.port} as ${cfg.user}: ${(err as Error).message}` +
        ' (is it running? does the database exist? run deploy/local/datastores.sh, or fix mysql.* in the config)',
      { cause: err },
    );
  }
  return { pool, db: drizzle(pool, { schema, mode: 'default' }) };
}
