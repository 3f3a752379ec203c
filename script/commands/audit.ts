import type { Command } from 'commander';
import { AUDIT_CHECKS, auditInvariants } from '../../internal/audit/index.js';
import { idArg, intArg, printJson } from '../args.js';
import { CliError } from '../cli-error.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';

/** `qianfan-order audit`: the audit-invariants job's checks by hand, over every order or a range. */
export function auditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      "check the books: each order's line of transitions and its events, money per order and payment, " +
        'nothing pending past its deadline, stock per SKU, flash sales in Redis against MySQL; reads only',
    )
    .option('--after <orderId>', 'start after this order id (default: the first order)', idArg('order'))
    .option('--max-orders <n>', 'check at most this many orders (default: all)', intArg(1, 1_000_000_000))
    .option('--slice <n>', 'orders per slice (one bounded range read per table)', intArg(10, 5000), 500)
    .option('--settle <minutes>', 'skip rows changed in the last N minutes (still in flight)', intArg(0, 1440), 10)
    .option('--json', 'the report as one JSON document on stdout')
    .addHelpText(
      'after',
      `\nChecks: ${AUDIT_CHECKS.join('; ')}.\n\nExit code 1 when anything was found: each finding names its check and the ids to look at (docs/operations.md, "Audit findings").\n\nExample:\n  qianfan-order audit --max-orders 100000 --json`,
    )
    .action(async (opts: { after?: bigint; maxOrders?: number; slice: number; settle: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        const bar = progress('audit');
        const r = await auditInvariants(ctx, {
          afterOrderId: opts.after === undefined ? undefined : String(opts.after),
          maxOrders: opts.maxOrders,
          sliceSize: opts.slice,
          settleMs: opts.settle * 60_000,
          onProgress: (n) => bar.update(n, undefined, 'orders'),
        });
        bar.done(`${r.checkedOrders} orders, ${r.checkedSkus} SKUs, ${r.checkedSales} flash sales checked`);
        if (opts.json) printJson(r);
        else {
          for (const f of r.findings) process.stdout.write(`${f.check}: ${f.ids.join(', ')} — ${f.detail}\n`);
          process.stdout.write(
            r.findings.length === 0
              ? 'no findings\n'
              : `${r.findings.length} findings${r.stoppedAfterOrderId ? `; orders after ${r.stoppedAfterOrderId} not checked yet` : ''}\n`,
          );
        }
        if (r.findings.length > 0) {
          throw new CliError(
            `${r.findings.length} rows break an invariant; see docs/operations.md ("Audit findings") for what each means and how to repair it`,
          );
        }
      });
    });
}
