import type { Command } from 'commander';
import { runMigrations } from '../../internal/model/index.js';
import { withContext } from '../context.js';

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (drizzle-kit SQL); a no-op when the schema is up to date')
    .action(async () => {
      await withContext(async (ctx) => {
        const db = ctx.config.mysql;
        process.stdout.write(`migrating ${db.database} at ${db.host}:${db.port} ...\n`);
        const r = await runMigrations(ctx.db, ctx.pool);
        process.stdout.write(
          r.applied === 0
            ? `up to date (${r.total} migrations applied earlier)\n`
            : `applied ${r.applied} migration(s); ${r.total} in total\n`,
        );
      });
    });
}
