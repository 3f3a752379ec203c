import type { Command } from 'commander';
import { stringify } from 'yaml';
import { cliConfig } from '../context.js';

const SECRET = /password|secret|token|key$/i;

function redact(value: unknown, key = ''): unknown {
  if (SECRET.test(key) && value !== '' && value !== undefined) {
    return Array.isArray(value) ? value.map(() => '[redacted]') : '[redacted]';
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

export function configCommand(program: Command): void {
  program
    .command('config')
    .description('print the effective configuration (file + QIANFAN_* overrides), secrets redacted; exits 2 if invalid')
    .addHelpText('after', '\nExample:\n  QIANFAN_CONFIG=config/test.yaml qianfan-order config')
    .action(() => {
      process.stdout.write(stringify(redact(cliConfig())));
    });
}
