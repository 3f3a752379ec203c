import type { Command } from 'commander';
import { checkSkuCsv, importSkus, SKU_CSV_HEADER } from '../../internal/ops/index.js';
import { printJson, readInputFile } from '../args.js';
import { CliError } from '../cli-error.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';

/** `qianfan-order import skus <file.csv>`. */
export function importCommand(program: Command): void {
  const imp = program.command('import').description('bulk imports, validated in full before anything is written');
  imp
    .command('skus')
    .description(`upsert SKUs by id from a CSV with the header ${SKU_CSV_HEADER.join(',')} (price in fen)`)
    .argument('<file>', 'the CSV file')
    .option('--dry-run', 'validate only')
    .option('--json', 'the result as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  qianfan-order import skus catalogue.csv --dry-run\n\nEvery bad line is reported with its line number; nothing is written unless all lines are valid.',
    )
    .action(async (file: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const text = readInputFile(file);
      const check = checkSkuCsv(text);
      if (check.errors.length > 0) {
        if (opts.json) printJson({ imported: 0, errors: check.errors });
        for (const e of check.errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
        throw new CliError(
          `${check.errors.length} bad line(s) in ${file}: nothing was imported; fix them and run again`,
        );
      }
      if (opts.dryRun) {
        if (opts.json) printJson({ valid: check.lines.length, imported: 0, dryRun: true });
        else process.stdout.write(`${check.lines.length} valid lines; nothing written (--dry-run)\n`);
        return;
      }
      await withContext(async (ctx) => {
        const bar = progress('import skus');
        const r = await importSkus(ctx, check.lines, (done) => bar.update(done, check.lines.length));
        bar.done(`${r.upserted} SKUs upserted`);
        if (opts.json) printJson({ imported: r.upserted, errors: [] });
      });
    });
}
