import type { Command } from 'commander';
import { migrationStatus, runMigrations } from '../../internal/model/index.js';
import { printJson } from '../args.js';
import { withContext } from '../context.js';

export function migrateCommand(program: Command): void {
  const migrate = program
    .command('migrate')
    .description('apply pending database migrations (drizzle-kit SQL); a no-op when the schema is up to date')
    .option('--dry-run', 'list the migrations that would be applied, apply nothing')
    .addHelpText('after', '\nExamples:\n  qianfan-order migrate\n  qianfan-order migrate status --json')
    .action(async (opts: { dryRun?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (opts.dryRun) {
            const pending = (await migrationStatus(ctx.pool)).filter((m) => !m.applied);
            process.stdout.write(
              pending.length ? `would apply: ${pending.map((m) => m.tag).join(', ')}\n` : 'up to date\n',
            );
            return;
          }
          const db = ctx.config.mysql;
          process.stdout.write(`migrating ${db.database} at ${db.host}:${db.port} ...\n`);
          const r = await runMigrations(ctx.db, ctx.pool);
          process.stdout.write(
            r.applied === 0
              ? `up to date (${r.total} migrations applied earlier)\n`
              : `applied ${r.applied} migration(s); ${r.total} in total\n`,
          );
        },
        { unboundedSql: true },
      );
    });
  migrate
    .command('status')
    .description('list every migration and whether this database has applied it')
    .option('--json', 'one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const states = await migrationStatus(ctx.pool);
        if (opts.json) return printJson(states);
        for (const m of states) process.stdout.write(`${m.applied ? 'applied' : 'PENDING'}  ${m.tag}\n`);
        const pending = states.filter((m) => !m.applied).length;
        process.stdout.write(pending ? `${pending} pending: run qianfan-order migrate\n` : 'up to date\n');
      });
    });
}
