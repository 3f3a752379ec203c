export { affectedRows, type Db, type Tx } from './handle.js';
export { MIGRATIONS_DIR, type MigrateResult, type MigrationState, migrationStatus, runMigrations } from './migrate.js';
export { orderColumns } from './orders.js';
export { executeSql, selectSql } from './plain-sql.js';
export * from './tables.js';
export * as tables from './tables.js';
