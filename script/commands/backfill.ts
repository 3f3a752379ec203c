import type { Command } from 'commander';
import { backfillStatus, backfills, runBackfill } from '../../internal/ops/index.js';
import { idArg, intArg, printJson } from '../args.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';

/** `qianfan-order backfill <name>` and `backfill status`. */
export function backfillCommand(program: Command): void {
  const names = backfills.map((b) => b.name);
  program
    .command('backfill')
    .description(
      `run a backfill over all orders by id, batched, throttled and checkpointed (a killed run resumes): ${backfills.map((b) => `${b.name} — ${b.does}`).join('; ')}. \`backfill status\` shows the checkpoints`,
    )
    .argument('<name>', `${names.join(' | ')} | status`)
    .option('--batch-size <n>', 'orders per batch', intArg(1, 10_000), 500)
    .option('--from-id <id>', 'start after this order id (ignores the checkpoint)', idArg('order'))
    .option('--sleep-ms <ms>', 'pause between batches', intArg(0, 60_000), 50)
    .option('--dry-run', 'read and report only: no checkpoint, no writes')
    .option('--json', 'the result as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  qianfan-order backfill order-totals --batch-size 1000 --dry-run\n  qianfan-order backfill status --json',
    )
    .action(
      async (
        name: string,
        opts: { batchSize: number; fromId?: bigint; sleepMs: number; dryRun?: boolean; json?: boolean },
      ) => {
        if (name === 'status') {
          await withContext(async (ctx) => {
            const rows = await backfillStatus(ctx);
            if (opts.json) return printJson(rows);
            if (rows.length === 0) process.stdout.write('no backfill has run yet\n');
            for (const r of rows) {
              process.stdout.write(
                `${r.name.padEnd(14)} ${r.status.padEnd(8)} processed ${r.processed}, findings ${r.findings}, last id ${r.lastId}, updated ${r.updatedAt.toISOString()}\n`,
              );
            }
          });
          return;
        }
        const b = backfills.find((x) => x.name === name);
        if (!b) throw new CliError(`no backfill '${name}'; choose one of: ${names.join(', ')}, or status`, EXIT.USAGE);
        await withContext(async (ctx) => {
          const bar = progress(`backfill ${name}`);
          const notes: string[] = [];
          const r = await runBackfill(ctx, b, {
            batchSize: opts.batchSize,
            fromId: opts.fromId,
            sleepMs: opts.sleepMs,
            dryRun: Boolean(opts.dryRun),
            onProgress: (p) => bar.update(p.processed, p.total, `findings ${p.findings}`),
            onNotes: (found) => {
              if (!opts.json) for (const n of found) process.stdout.write(`${n}\n`);
              else if (notes.length < 1000) notes.push(...found.slice(0, 1000 - notes.length));
            },
          });
          bar.done(
            `${r.processed} orders, ${r.findings} findings${r.resumedFrom ? ` (resumed after ${r.resumedFrom})` : ''}`,
          );
          if (opts.json) printJson({ ...r, notes });
        });
      },
    );
}
