import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import type { Pool } from 'mysql2/promise';

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations', import.meta.url));
const LOCK = 'qianfan_order_migrate';

export interface MigrateResult {
  applied: number;
  total: number;
}

/**
 * Applies pending drizzle-kit migrations. Serialized across processes with a named lock (GET_LOCK
 * works on MySQL 8 and MariaDB), so two replicas starting together do not race. A no-op when up to date.
 */
export async function runMigrations(
  db: MySql2Database<Record<string, unknown>>,
  pool: Pool,
  lockTimeoutSeconds = 60,
): Promise<MigrateResult> {
  const conn = await pool.getConnection();
  try {
    const [rows] = await conn.query('SELECT GET_LOCK(?, ?) AS got', [LOCK, lockTimeoutSeconds]);
    if ((rows as Array<{ got: number | null }>)[0]?.got !== 1) {
      throw new Error(
        `another migration holds the lock '${LOCK}' for more than ${lockTimeoutSeconds} s; wait for it and retry`,
      );
    }
    try {
      const before = await appliedCount(pool);
      await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
      const after = await appliedCount(pool);
      return { applied: after - before, total: after };
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [LOCK]);
    }
  } finally {
    conn.release();
  }
}

async function appliedCount(pool: Pool): Promise<number> {
  const [tables] = await pool.query("SHOW TABLES LIKE '__drizzle_migrations'");
  if ((tables as unknown[]).length === 0) return 0;
  const [rows] = await pool.query('SELECT COUNT(*) AS n FROM `__drizzle_migrations`');
  return Number((rows as Array<{ n: number | string }>)[0]?.n ?? 0);
}

export interface MigrationState {
  tag: string;
  applied: boolean;
}

/** Every migration in the journal and whether this database has applied it (drizzle's own record). */
export async function migrationStatus(pool: Pool): Promise<MigrationState[]> {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_DIR}/meta/_journal.json`, 'utf8')) as {
    entries: Array<{ tag: string; when: number }>;
  };
  const [tables] = await pool.query("SHOW TABLES LIKE '__drizzle_migrations'");
  const applied = new Set<number>();
  if ((tables as unknown[]).length > 0) {
    const [rows] = await pool.query('SELECT created_at FROM `__drizzle_migrations`');
    for (const r of rows as Array<{ created_at: number | string }>) applied.add(Number(r.created_at));
  }
  return journal.entries.map((e) => ({ tag: e.tag, applied: applied.has(e.when) }));
}
