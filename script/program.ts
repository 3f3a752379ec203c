import { Command } from 'commander';
import { afterSaleCommand } from './commands/aftersale.js';
import { auditCommand } from './commands/audit.js';
import { backfillCommand } from './commands/backfill.js';
import { configCommand } from './commands/config.js';
import { dlqCommand } from './commands/dlq.js';
import { eventsCommand } from './commands/events.js';
import { importCommand } from './commands/import.js';
import { jobCommand } from './commands/job.js';
import { migrateCommand } from './commands/migrate.js';
import { orderCommand } from './commands/order.js';
import { reconcileCommand } from './commands/reconcile.js';
import { refundCommand } from './commands/refund.js';
import { sandboxCommand } from './commands/sandbox.js';
import { seedCommand } from './commands/seed.js';
import { tokenCommand } from './commands/token.js';

export function buildProgram(): Command {
  const program = new Command('qianfan-order')
    .description(
      'Operator CLI of the qianfan order service.\n' +
        'Config: config/default.yaml, or the file in QIANFAN_CONFIG; QIANFAN_<SECTION>__<KEY> overrides a key.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  migrateCommand(program);
  seedCommand(program);
  tokenCommand(program);
  configCommand(program);
  orderCommand(program);
  jobCommand(program);
  backfillCommand(program);
  importCommand(program);
  eventsCommand(program);
  dlqCommand(program);
  reconcileCommand(program);
  auditCommand(program);
  refundCommand(program);
  afterSaleCommand(program);
  sandboxCommand(program);
  return program;
}
