import { type Command, InvalidArgumentError } from 'commander';
import { reconcileFlashSale } from '../../internal/flashsale/index.js';
import { parseId } from '../../internal/ids/index.js';
import { reconcilePayments } from '../../internal/payment/index.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';

const parseTime = (v: string) => {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError('expected an ISO-8601 time, e.g. 2026-11-27T00:00:00Z');
  return new Date(t);
};

/** `qianfan-order reconcile payments`: the reconcile-payments job, by hand. */
export function reconcileCommand(program: Command): void {
  const reconcile = program
    .command('reconcile')
    .description('compare our records with the payment provider and fix what is safe');
  reconcile
    .command('payments')
    .description(
      'ask the provider about payments still PENDING, mark orders with a kept payment PAID, report paid orders without one',
    )
    .option('--since <time>', 'payments and orders created since (default: 3 days ago)', parseTime)
    .option('--pending-after <minutes>', 'ask about payments PENDING at least this long', (v) => Number(v), 10)
    .option('--dry-run', 'ask the provider and report what would be fixed; apply nothing')
    .option('--json', 'the report as one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  qianfan-order reconcile payments --since 2026-11-27T00:00:00Z --json')
    .action(async (opts: { since?: Date; pendingAfter: number; dryRun?: boolean; json?: boolean }) => {
      if (!Number.isFinite(opts.pendingAfter) || opts.pendingAfter < 0) {
        throw new CliError('--pending-after must be a number of minutes', EXIT.USAGE);
      }
      await withContext(
        async (ctx) => {
          const r = await reconcilePayments(ctx, {
            since: opts.since,
            pendingAfterMs: opts.pendingAfter * 60_000,
            dryRun: opts.dryRun,
          });
          if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
          else {
            process.stdout.write(
              `checked ${r.checked} pending payments; fixed ${r.fixed}; to look at ${r.reported}; failed ${r.failed}\n`,
            );
            for (const f of r.findings) {
              process.stdout.write(
                `${f.fixed ? 'fixed   ' : 'REPORTED'} ${f.kind} order ${f.orderId}${f.paymentId ? ` payment ${f.paymentId}` : ''}: ${f.action}\n`,
              );
            }
          }
          if (r.failed > 0) throw new CliError(`${r.failed} payments could not be checked (see the log); run it again`);
        },
        { mq: true },
      );
    });

  reconcile
    .command('flash-sale')
    .description("compare a flash sale's Redis counters with the DB; load or repair Redis where safe")
    .argument('<saleId>', 'the flash sale id')
    .option('--dry-run', 'report only, change nothing')
    .option('--json', 'the result as one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  qianfan-order reconcile flash-sale 384870123456789 --dry-run')
    .action(async (raw: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const id = parseId(raw);
      if (id === undefined) throw new CliError(`'${raw}' is not a flash sale id`, EXIT.USAGE);
      await withContext(async (ctx) => {
        const r = await reconcileFlashSale(ctx, id, { dryRun: opts.dryRun });
        if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
        else {
          process.stdout.write(
            `flash sale ${r.saleId}: ${r.action}; Redis remaining ${r.redisRemaining ?? 'missing'}, expected ${r.expectedRemaining}, ${r.queuedTickets} tickets queued${r.note ? ` (${r.note})` : ''}\n`,
          );
        }
      });
    });
}
