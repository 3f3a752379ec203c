export { MIGRATIONS_DIR, type MigrateResult, runMigrations } from './migrate.js';
export * from './tables.js';
export * as tables from './tables.js';
