import { type Command, InvalidArgumentError } from 'commander';
import {
  countOpenDeadLetters,
  type DeadLetterStatus,
  listDeadLetters,
  replayDeadLetters,
} from '../../internal/deadletter/index.js';
import { parseId } from '../../internal/ids/index.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';

const statuses = ['PARKED', 'REPLAYED', 'RESOLVED'];
const parseStatus = (v: string) => {
  if (!statuses.includes(v)) throw new InvalidArgumentError(`expected one of ${statuses.join(', ')}`);
  return v as DeadLetterStatus;
};
const parseLimit = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('expected a number from 1 to 10000');
  return n;
};

/** `qianfan-order dlq list|replay`: the dead-letter table (parked messages and the broker's DLQ). */
export function dlqCommand(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('dead letters: messages a consumer parked (permanent failure) or the broker gave up on (DLQ)');

  dlq
    .command('list')
    .description('list dead letters, oldest first (default: open ones, PARKED)')
    .option('-t, --topic <topic>', 'only this topic, e.g. payment_notify')
    .option('-s, --status <status>', `PARKED | REPLAYED | RESOLVED`, parseStatus, 'PARKED' as DeadLetterStatus)
    .option('-n, --limit <n>', 'at most this many', parseLimit, 100)
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  qianfan-order dlq list --topic payment_notify --json')
    .action(async (opts: { topic?: string; status: DeadLetterStatus; limit: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        const rows = await listDeadLetters(ctx.db, { topic: opts.topic, status: opts.status, limit: opts.limit });
        const counts = await countOpenDeadLetters(ctx.db);
        const letters = rows.map((r) => ({
          id: String(r.id),
          source: r.source,
          status: r.status,
          topic: r.topic,
          group: r.consumerGroup,
          key: r.messageKey,
          messageId: r.messageId,
          eventId: r.eventId,
          errorCode: r.errorCode,
          errorMessage: r.errorMessage,
          attempts: r.attempts,
          replays: r.replayCount,
          firstSeenAt: r.firstSeenAt.toISOString(),
          lastSeenAt: r.lastSeenAt.toISOString(),
          body: r.body,
        }));
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ letters, open: counts.map((c) => ({ ...c, n: Number(c.n) })) })}\n`);
          return;
        }
        if (letters.length === 0)
          process.stdout.write(`no ${opts.status} dead letters${opts.topic ? ` on ${opts.topic}` : ''}\n`);
        for (const l of letters) {
          process.stdout.write(
            `${l.id}  ${l.status.padEnd(8)} ${l.source.padEnd(6)} ${l.topic}  key=${l.key}  ${l.errorCode}: ${l.errorMessage}  (attempts ${l.attempts}, last ${l.lastSeenAt})\n`,
          );
        }
        const open = counts.map((c) => `${c.topic}/${c.source}: ${c.n}`).join(', ');
        process.stdout.write(`open: ${open || 'none'}\n`);
      });
    });

  dlq
    .command('replay')
    .description('re-publish dead letters with their original key and message group; applied ones become RESOLVED')
    .argument('[ids...]', 'dead-letter ids (from dlq list)')
    .option('--all', 'every PARKED letter (of --topic, if given)')
    .option('-t, --topic <topic>', 'with --all: only this topic')
    .option('--dry-run', 'say what would be replayed, publish nothing')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  qianfan-order dlq replay 7263511 7263512\n  qianfan-order dlq replay --all --topic payment_notify --dry-run',
    )
    .action(async (ids: string[], opts: { all?: boolean; topic?: string; dryRun?: boolean; json?: boolean }) => {
      if (!opts.all && ids.length === 0) throw new CliError('name the dead-letter ids to replay, or --all', EXIT.USAGE);
      if (opts.all && ids.length > 0) throw new CliError('give ids or --all, not both', EXIT.USAGE);
      const parsed = ids.map((v) => {
        const id = parseId(v);
        if (id === undefined)
          throw new CliError(`'${v}' is not a dead-letter id (see qianfan-order dlq list)`, EXIT.USAGE);
        return id;
      });
      await withContext(
        async (ctx) => {
          const r = await replayDeadLetters(ctx, {
            ids: parsed,
            all: opts.all,
            topic: opts.topic,
            dryRun: opts.dryRun,
            onProgress: (done) => process.stderr.write(`\rreplayed ${done}`),
          });
          process.stderr.write('\n');
          if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
          else {
            process.stdout.write(
              `${r.dryRun ? 'would replay' : 'replayed'} ${r.replayed.length}: ${r.replayed.join(' ')}\n`,
            );
            for (const s of r.skipped) process.stdout.write(`skipped ${s.id}: ${s.reason}\n`);
          }
          if (r.skipped.some((s) => s.reason === 'not found'))
            throw new CliError('some ids were not found', EXIT.FAILED);
        },
        { mq: !opts.dryRun },
      );
    });
}
