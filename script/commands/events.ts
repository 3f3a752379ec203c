import type { Command } from 'commander';
import { replayOrderEvents } from '../../internal/ops/index.js';
import { idArg, printJson, timeArg } from '../args.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';

/** `qianfan-order events replay`. */
export function eventsCommand(program: Command): void {
  const events = program.command('events').description('the order_event messages this service published');
  events
    .command('replay')
    .description('re-publish order_event messages from the tx-log (same event ids: consumers dedupe)')
    .option('--order <id>', "one order's events", idArg('order'))
    .option('--since <time>', 'every event recorded since this time', timeArg)
    .option('--dry-run', 'list what would be re-published')
    .option('--json', 'the result as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  qianfan-order events replay --order 384870123456789012\n  qianfan-order events replay --since 2026-11-27T00:00:00Z --dry-run',
    )
    .action(async (opts: { order?: bigint; since?: Date; dryRun?: boolean; json?: boolean }) => {
      if ((opts.order === undefined) === (opts.since === undefined)) {
        throw new CliError('give exactly one of --order <id> or --since <time>', EXIT.USAGE);
      }
      await withContext(
        async (ctx) => {
          const bar = progress('events replay');
          const r = await replayOrderEvents(ctx, {
            orderId: opts.order,
            since: opts.since,
            dryRun: opts.dryRun,
            onProgress: (done, total) => bar.update(done, total),
          });
          bar.done(`${r.dryRun ? 'would re-publish' : 're-published'} ${r.events.length} events`);
          if (opts.json) printJson(r);
          else for (const e of r.events) process.stdout.write(`${e.eventId} ${e.type} order ${e.orderId}\n`);
        },
        { mq: !opts.dryRun },
      );
    });
}
