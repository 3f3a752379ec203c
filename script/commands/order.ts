import { once } from 'node:events';
import { createWriteStream, renameSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { checkShipCsv, findOrders, orderDossier, SHIP_CSV_HEADER, shipBatch } from '../../internal/ops/index.js';
import {
  cancelOrder,
  exportOrdersCsv,
  isOrderStatus,
  type OrderSearch,
  PAYMENT_STATUSES,
  type PaymentStatus,
  validateSearch,
} from '../../internal/order/index.js';
import { idArg, intArg, printJson, readInputFile, timeArg } from '../args.js';
import { CliError, EXIT } from '../cli-error.js';
import { withContext } from '../context.js';
import { progress } from '../progress.js';

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : '-');

/** `qianfan-order order show|cancel|find|ship-batch|export`. */
export function orderCommand(program: Command): void {
  const order = program.command('order').description('look at and act on single orders');
  order
    .command('show')
    .description(
      'the order with its items, payments, refunds, shipments, status history, published events and staff notes',
    )
    .argument('<orderId>', 'the order id', idArg('order'))
    .option('--json', 'one JSON document on stdout')
    .addHelpText('after', '\nExample:\n  qianfan-order order show 384870123456789012 --json')
    .action(async (id: bigint, opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const d = await orderDossier(ctx, id);
        if (opts.json) return printJson(d);
        const o = d.order;
        const out = [
          `order ${o.id} (${o.orderNo}) user ${o.userId}: ${o.status} v${o.version}, total ${o.totalAmount} ${o.currency}, paid ${o.paidAmount}, refunded ${o.refundedAmount}, source ${o.source}`,
          `  created ${iso(o.createdAt)}, pay by ${iso(o.payDeadline)}, paid ${iso(o.paidAt)}, shipped ${iso(o.shippedAt)}, delivered ${iso(o.deliveredAt)}`,
          'items:',
          ...d.items.map((i) => `  SKU ${i.skuId} x${i.quantity} @ ${i.unitPrice} = ${i.lineTotal}  ${i.title}`),
          'payments:',
          ...d.payments.map(
            (p) =>
              `  ${p.id} ${p.provider} ${p.status} ${p.amount} ${p.currency}${p.succeededOrderId ? ' (kept)' : ''}${p.failureReason ? ` ${p.failureReason}` : ''}`,
          ),
          'refunds:',
          ...d.refunds.map(
            (r) => `  ${r.id} ${r.kind} ${r.status} ${r.amount}${r.restock ? ' restock' : ''} ${r.reason}`,
          ),
          'shipments:',
          ...d.shipments.map((s) => `  ${s.carrier} ${s.trackingNo} ${s.status}`),
          'history:',
          ...d.history.map(
            (h) =>
              `  ${iso(h.createdAt)} ${h.fromStatus || '-'} -> ${h.toStatus} v${h.version} by ${h.actorType}:${h.actorId} (${h.reason})`,
          ),
          'events (order_event):',
          ...d.events.map((e) => `  ${iso(e.createdAt)} ${e.eventType} ${e.eventId}`),
          'notes (staff only):',
          ...d.notes.map((n) => `  ${iso(n.createdAt)} by ${n.authorId}: ${n.body}`),
        ];
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });
  order
    .command('cancel')
    .description('cancel an unpaid order as an admin (stock goes back); paid orders need a refund instead')
    .argument('<orderId>', 'the order id', idArg('order'))
    .requiredOption('--reason <text>', 'why, for the status history (up to 200 characters)')
    .option('--dry-run', 'say what would happen, change nothing')
    .addHelpText(
      'after',
      '\nExample:\n  qianfan-order order cancel 384870123456789012 --reason "fraud check failed" --dry-run',
    )
    .action(async (id: bigint, opts: { reason: string; dryRun?: boolean }) => {
      if (opts.reason.trim() === '' || opts.reason.length > 200)
        throw new CliError('--reason must be 1 to 200 characters', EXIT.USAGE);
      await withContext(
        async (ctx) => {
          const d = await orderDossier(ctx, id);
          if (opts.dryRun) {
            const ok = d.order.status === 'PENDING_PAYMENT' || d.order.status === 'CANCELLED';
            process.stdout.write(
              ok
                ? `order ${id} is ${d.order.status}: it would be cancelled (reason: ${opts.reason})\n`
                : `order ${id} is ${d.order.status}: cancel would be refused; refund it instead\n`,
            );
            return;
          }
          const r = await cancelOrder(ctx, { orderId: id, reason: 'ADMIN', actor: { type: 'ADMIN', id: 'cli' } });
          process.stdout.write(r.changed ? `order ${id} cancelled\n` : `order ${id} was already cancelled\n`);
        },
        { mq: !opts.dryRun },
      );
    });
  order
    .command('find')
    .description('find orders by user id or order number')
    .option('--user <id>', "the user's orders (oldest first, at most 100)", idArg('user'))
    .option('--order-no <no>', 'the order with this number, e.g. QF0384870123456789012')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  qianfan-order order find --user 1001\n  qianfan-order order find --order-no QF0384870123456789012 --json',
    )
    .action(async (opts: { user?: bigint; orderNo?: string; json?: boolean }) => {
      if ((opts.user === undefined) === (opts.orderNo === undefined)) {
        throw new CliError('give exactly one of --user <id> or --order-no <no>', EXIT.USAGE);
      }
      await withContext(async (ctx) => {
        const rows = await findOrders(ctx, { userId: opts.user, orderNo: opts.orderNo });
        if (opts.json) return printJson(rows);
        if (rows.length === 0) process.stdout.write('no orders found\n');
        for (const o of rows)
          process.stdout.write(
            `${o.id} ${o.orderNo} ${o.status.padEnd(16)} ${o.totalAmount} ${o.currency} ${iso(o.createdAt)}\n`,
          );
      });
    });
  order
    .command('ship-batch')
    .description('ship PAID orders from a CSV of tracking numbers, validated in full before anything ships')
    .argument('<file>', `a CSV file with the header ${SHIP_CSV_HEADER.join(',')}`)
    .option('--dry-run', 'check the whole file against the orders, ship nothing')
    .option('--json', 'the result as one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExample:\n  qianfan-order order ship-batch parcels.csv --dry-run\n\nEvery bad line is reported with its line number (bad fields, an order listed twice, an order that is not PAID); nothing ships unless all lines are good. A line whose order already shipped with the same carrier and tracking number (an earlier run of the file) is skipped, so a stopped run is finished by running it again.',
    )
    .action(async (file: string, opts: { dryRun?: boolean; json?: boolean }) => {
      const text = readInputFile(file);
      await withContext(
        async (ctx) => {
          const check = await checkShipCsv(ctx, text);
          if (check.errors.length > 0) {
            if (opts.json) printJson({ shipped: 0, errors: check.errors });
            for (const e of check.errors) process.stderr.write(`${file}:${e.line}: ${e.message}\n`);
            throw new CliError(
              `${check.errors.length} bad line(s) in ${file}: nothing was shipped; fix them and run again`,
            );
          }
          const todo = check.lines.filter((l) => !l.done).length;
          if (opts.dryRun) {
            if (opts.json) printJson({ valid: check.lines.length, toShip: todo, dryRun: true });
            else
              process.stdout.write(
                `${check.lines.length} valid lines: ${todo} orders would ship, ${check.lines.length - todo} shipped already; nothing changed (--dry-run)\n`,
              );
            return;
          }
          const bar = progress('ship-batch');
          const r = await shipBatch(ctx, check.lines, 'cli', (done) => bar.update(done, check.lines.length));
          bar.done(`${r.shipped} shipped, ${r.skipped} shipped before, ${r.failed.length} failed`);
          if (opts.json) printJson(r);
          for (const f of r.failed) process.stderr.write(`${file}:${f.line}: order ${f.orderId}: ${f.message}\n`);
          if (r.failed.length > 0) {
            throw new CliError(
              `${r.failed.length} order(s) changed since the check and did not ship (listed above); the others shipped`,
            );
          }
        },
        { mq: !opts.dryRun },
      );
    });
  order
    .command('export')
    .description('write the orders of a search as CSV (UTF-8 with BOM), newest first, with progress on stderr')
    .option('--order-no <no>', 'the order with this number')
    .option('--user <id>', "the buyer's orders", idArg('user'))
    .option('--phone-last4 <digits>', "the receiver phone's last four digits")
    .option('--sku <id>', 'orders with a line of this SKU', idArg('SKU'))
    .addOption(new Option('--status <status>', 'orders in this status'))
    .addOption(
      new Option('--payment-status <status>', 'orders with a payment attempt in this status').choices(PAYMENT_STATUSES),
    )
    .addOption(new Option('--source <source>', 'where the order came from').choices(['APP', 'WEB', 'RPC', 'FLASHSALE']))
    .option('--created-from <time>', 'created at or after (ISO 8601)', timeArg)
    .option('--created-to <time>', 'created at or before (ISO 8601)', timeArg)
    .option('--paid-from <time>', 'paid at or after (ISO 8601)', timeArg)
    .option('--paid-to <time>', 'paid at or before (ISO 8601)', timeArg)
    .option('--amount-min <fen>', 'total at least (fen)', intArg(0, Number.MAX_SAFE_INTEGER))
    .option('--amount-max <fen>', 'total at most (fen)', intArg(0, Number.MAX_SAFE_INTEGER))
    .option('--lines', 'one row per order line instead of one per order')
    .option('--full-phones', 'receiver phones in full (default: 138****5678)')
    .option('--out <file>', 'write here (through <file>.partial, renamed when complete) instead of stdout')
    .addHelpText(
      'after',
      '\nExamples:\n  qianfan-order order export --paid-from 2026-11-01T00:00:00+08:00 --paid-to 2026-11-30T23:59:59+08:00 --out november.csv\n  qianfan-order order export --status PAID --lines > paid-lines.csv\n\nAmounts are yuan with two decimals, times ISO 8601 in UTC. The file is complete only when the command exits 0; with --out, a failed export leaves <file>.partial, never <file>.',
    )
    .action(async (opts: ExportOpts) => {
      if (opts.status !== undefined && !isOrderStatus(opts.status)) {
        throw new CliError(`--status ${opts.status} is not an order status`, EXIT.USAGE);
      }
      const filter: OrderSearch = {
        orderNo: opts.orderNo,
        userId: opts.user,
        phoneLast4: opts.phoneLast4,
        skuId: opts.sku,
        status: opts.status,
        paymentStatus: opts.paymentStatus,
        source: opts.source,
        createdFrom: opts.createdFrom,
        createdTo: opts.createdTo,
        paidFrom: opts.paidFrom,
        paidTo: opts.paidTo,
        amountMin: opts.amountMin,
        amountMax: opts.amountMax,
      };
      try {
        validateSearch(filter);
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.USAGE);
      }
      const partial = opts.out && `${opts.out}.partial`;
      const out = partial ? createWriteStream(partial) : process.stdout;
      const bar = progress('export');
      let total = { orders: 0, rows: 0 };
      await withContext(async (ctx) => {
        try {
          const csv = exportOrdersCsv(ctx, filter, {
            shape: opts.lines ? 'lines' : 'orders',
            fullPhones: opts.fullPhones === true,
            onProgress: (orders, rows) => {
              total = { orders, rows };
              bar.update(orders, undefined, `orders, ${rows} rows`);
            },
          });
          for await (const chunk of csv) if (!out.write(chunk)) await once(out, 'drain');
          if (partial && opts.out) {
            out.end();
            await once(out, 'finish');
            renameSync(partial, opts.out);
          }
        } catch (err) {
          if (partial) out.destroy();
          throw err;
        }
      });
      bar.done(`${total.orders} orders, ${total.rows} rows${opts.out ? ` in ${opts.out}` : ''}`);
    });
}

interface ExportOpts {
  orderNo?: string;
  user?: bigint;
  phoneLast4?: string;
  sku?: bigint;
  status?: string;
  paymentStatus?: PaymentStatus;
  source?: OrderSearch['source'];
  createdFrom?: Date;
  createdTo?: Date;
  paidFrom?: Date;
  paidTo?: Date;
  amountMin?: number;
  amountMax?: number;
  lines?: boolean;
  fullPhones?: boolean;
  out?: string;
}
