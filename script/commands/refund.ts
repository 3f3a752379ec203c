import type { Command } from 'commander';
import { parseId } from '../../internal/ids/index.js';
import { retryRefund } from '../../internal/payment/index.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';

/** `qianfan-order refund retry <id>`: send a refund the provider refused once more. */
export function refundCommand(program: Command): void {
  const refund = program.command('refund').description('refunds the provider refused (order state REFUND_FAILED)');
  refund
    .command('retry')
    .description('reopen a FAILED refund and send it to the provider again (the order goes back to REFUNDING)')
    .argument('<refundId>', 'the refund id (see the refund.failed log line or GET /v1/admin/orders/{id})')
    .option('--dry-run', 'check that the refund can be retried, change nothing')
    .addHelpText('after', '\nExample:\n  qianfan-order refund retry 7263511904321 --dry-run')
    .action(async (raw: string, opts: { dryRun?: boolean }) => {
      const id = parseId(raw);
      if (id === undefined) throw new CliError(`'${raw}' is not a refund id`, EXIT.USAGE);
      await withContext(
        async (ctx) => {
          const r = await retryRefund(ctx, { refundId: id, actor: { type: 'ADMIN', id: 'cli' }, dryRun: opts.dryRun });
          process.stdout.write(
            opts.dryRun
              ? `refund ${raw} (${r.refund.amount} for order ${r.refund.orderId}) can be retried\n`
              : `refund ${raw} sent again; it is ${r.refund.status}\n`,
          );
        },
        { mq: !opts.dryRun },
      );
    });
}
