import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import type { Config } from '../config/index.js';
import { tables as schema } from '../model/index.js';

export type Db = MySql2Database<typeof schema>;
export type Pool = mysql.Pool;

/**
 * mysql2 pool + drizzle. BIGINTs come back as strings (never rounded through a double) and every
 * session runs in UTC so DEFAULT CURRENT_TIMESTAMP(3) and the app's Dates agree.
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
    conn.query("SET time_zone = '+00:00'");
  });
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
