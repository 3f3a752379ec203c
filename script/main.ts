import { CommanderError } from 'commander';
import { AppError } from '../internal/errorx/index.js';
import { CliError, EXIT } from './cli-error.js';
import { buildProgram } from './program.js';

// Operator CLI: exit 0 on success, 1 when the work failed, 2 for bad usage or config.
try {
  await buildProgram().parseAsync(process.argv);
  process.exit(EXIT.OK);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander already printed the problem (or the help / version text)
    process.exit(err.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
  }
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof AppError) {
    process.stderr.write(`error: ${err.code}: ${err.message}\n`);
    process.exit(err.kind === 'invalid' ? EXIT.USAGE : EXIT.FAILED);
  }
  process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(EXIT.FAILED);
}
