import type { Command } from 'commander';
import { demoSkus, seedDemo } from '../../internal/ops/index.js';
import { CliError } from '../cli-error.js';
import { withContext } from '../context.js';

export function seedCommand(program: Command): void {
  program
    .command('seed')
    .description('insert the demo catalogue (SKUs 10001-10005) or top its stock back up; safe to repeat')
    .addHelpText('after', '\nExample:\n  qianfan-order seed')
    .option('--dry-run', 'list the demo SKUs, write nothing')
    .action(async (opts: { dryRun?: boolean }) => {
      if (opts.dryRun) {
        for (const s of demoSkus)
          process.stdout.write(`would seed ${s.id}  ${s.title}  ${s.price} fen  stock ${s.available}\n`);
        return;
      }
      await withContext(async (ctx) => {
        if (ctx.config.service.env === 'production') {
          throw new CliError('refusing to seed demo data into a production config (service.env=production)');
        }
        try {
          const r = await seedDemo(ctx);
          process.stdout.write(`seeded ${r.skus} demo SKUs:\n`);
          for (const s of demoSkus)
            process.stdout.write(`  ${s.id}  ${s.title}  ${s.price} fen  stock ${s.available}\n`);
        } catch (err) {
          if (/doesn't exist/.test(String((err as Error).message))) {
            throw new CliError('the tables do not exist yet: run `qianfan-order migrate` first');
          }
          throw err;
        }
      });
    });
}
