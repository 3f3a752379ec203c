import { type Command, Option } from 'commander';
import {
  type AfterSaleEvent,
  type AfterSaleKind,
  type AfterSaleStatus,
  afterSaleStatuses,
  decideAfterSale,
  listAfterSalePage,
  readAfterSale,
  rejectAfterSale,
} from '../../internal/aftersale/index.js';
import { approveAfterSaleRequest, receiveAfterSaleReturn } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { idArg, intArg, printJson } from '../args.js';
import { CliError } from '../cli-error.js';
import { withContext } from '../context.js';

const staff = { type: 'ADMIN' as const, id: 'cli' };

/** --dry-run: what the step would do to the after-sale as it is now, changing nothing. */
async function dryRun(ctx: ServiceContext, id: bigint, steps: (kind: AfterSaleKind) => AfterSaleEvent[]) {
  const v = await readAfterSale(ctx, { afterSaleId: id });
  let at = v.afterSale.status as AfterSaleStatus;
  for (const e of steps(v.afterSale.kind as AfterSaleKind)) {
    const d = decideAfterSale(v.afterSale.kind as AfterSaleKind, at, e);
    if (d.kind === 'illegal') {
      throw new CliError(`after-sale ${id} is ${v.afterSale.status}: ${e.replace('_', ' ')} would be refused`);
    }
    if (d.kind === 'move') at = d.to;
  }
  process.stdout.write(`after-sale ${id} would go ${v.afterSale.status} -> ${at}; nothing changed\n`);
}

const line = (v: {
  afterSale: {
    id: bigint;
    orderId: bigint;
    kind: string;
    status: string;
    itemsAmount: number;
    shippingAmount: number;
    createdAt: Date;
  };
}) =>
  `${v.afterSale.id}  order ${v.afterSale.orderId}  ${v.afterSale.kind}  ${v.afterSale.status}  ${v.afterSale.itemsAmount + v.afterSale.shippingAmount} fen  ${v.afterSale.createdAt.toISOString()}`;

/** `qianfan-order aftersale list|show|approve|reject|receive`: the merchant's after-sale queue by hand. */
export function afterSaleCommand(program: Command): void {
  const cmd = program
    .command('aftersale')
    .description("after-sales (售后): the merchant's review queue, returns received");

  cmd
    .command('list')
    .description('after-sales, newest first (REQUESTED is the queue waiting on the merchant)')
    .addOption(new Option('--status <status>', 'only this state').choices([...afterSaleStatuses]))
    .option('--limit <n>', 'at most this many', intArg(1, 1000), 50)
    .option('--json', 'one JSON object per line instead of text')
    .addHelpText('after', '\nExample:\n  qianfan-order aftersale list --status REQUESTED')
    .action(async (opts: { status?: (typeof afterSaleStatuses)[number]; limit: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        const page = await listAfterSalePage(ctx, { status: opts.status, limit: opts.limit });
        for (const v of page.items)
          opts.json ? printJson({ ...v.afterSale, lines: v.lines }) : process.stdout.write(`${line(v)}\n`);
        if (page.items.length === 0) process.stderr.write('no after-sales match\n');
      });
    });

  cmd
    .command('show')
    .description('one after-sale: its lines, amounts and history')
    .argument('<afterSaleId>', 'the after-sale id', idArg('after-sale'))
    .addHelpText('after', '\nExample:\n  qianfan-order aftersale show 7390011223344556677')
    .action(async (id: bigint) => {
      await withContext(async (ctx) => {
        const v = await readAfterSale(ctx, { afterSaleId: id });
        process.stdout.write(`${line(v)}\nreason: ${v.afterSale.reason}\n`);
        for (const l of v.lines)
          process.stdout.write(`  line ${l.orderItemId}: ${l.quantity} unit(s), ${l.amount} fen\n`);
        if (v.afterSale.shippingAmount > 0) process.stdout.write(`  shipping: ${v.afterSale.shippingAmount} fen\n`);
        if (v.afterSale.refundId) process.stdout.write(`refund: ${v.afterSale.refundId}\n`);
        for (const h of v.log) {
          process.stdout.write(
            `  ${h.createdAt.toISOString()} ${h.fromStatus ?? '-'} -> ${h.toStatus} by ${h.actorType}:${h.actorId} ${h.reason}\n`,
          );
        }
      });
    });

  cmd
    .command('approve')
    .description('approve: a refund-only request is refunded at once, a return waits for the goods')
    .argument('<afterSaleId>', 'the after-sale id', idArg('after-sale'))
    .option('--note <text>', 'a note for the buyer')
    .option('--dry-run', 'say what would happen, change nothing')
    .addHelpText(
      'after',
      '\nExample:\n  qianfan-order aftersale approve 7390011223344556677 --note "return to Hangzhou" --dry-run',
    )
    .action(async (id: bigint, opts: { note?: string; dryRun?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (opts.dryRun)
            return dryRun(ctx, id, (k) => (k === 'REFUND_ONLY' ? ['approve', 'start_refund'] : ['approve']));
          const r = await approveAfterSaleRequest(ctx, { afterSaleId: id, actor: staff, note: opts.note });
          process.stdout.write(`after-sale ${id} is ${r.afterSale.status}${r.changed ? '' : ' (already)'}\n`);
        },
        { mq: true },
      );
    });

  cmd
    .command('reject')
    .description('reject, with a note that tells the buyer why')
    .argument('<afterSaleId>', 'the after-sale id', idArg('after-sale'))
    .requiredOption('--note <text>', 'why, for the buyer')
    .option('--dry-run', 'say what would happen, change nothing')
    .addHelpText(
      'after',
      '\nExample:\n  qianfan-order aftersale reject 7390011223344556677 --note "outside the return window"',
    )
    .action(async (id: bigint, opts: { note: string; dryRun?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (opts.dryRun) return dryRun(ctx, id, () => ['reject']);
          const r = await rejectAfterSale(ctx, { afterSaleId: id, actor: staff, note: opts.note });
          process.stdout.write(`after-sale ${id} is ${r.afterSale.status}${r.changed ? '' : ' (already)'}\n`);
        },
        { mq: true },
      );
    });

  cmd
    .command('receive')
    .description('the returned goods arrived: back to stock (once) and the refund starts')
    .argument('<afterSaleId>', 'the after-sale id', idArg('after-sale'))
    .option('--dry-run', 'say what would happen, change nothing')
    .addHelpText('after', '\nExample:\n  qianfan-order aftersale receive 7390011223344556677')
    .action(async (id: bigint, opts: { dryRun?: boolean }) => {
      await withContext(
        async (ctx) => {
          if (opts.dryRun) return dryRun(ctx, id, () => ['receive', 'start_refund']);
          const r = await receiveAfterSaleReturn(ctx, { afterSaleId: id, actor: staff });
          process.stdout.write(`after-sale ${id} is ${r.afterSale.status}${r.changed ? '' : ' (already)'}\n`);
        },
        { mq: true },
      );
    });
}
