import { type Config, ConfigError, loadConfig } from '../internal/config/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { CliError, EXIT } from './cli-error.js';

export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, EXIT.USAGE);
    throw err;
  }
}

/**
 * Runs `fn` with a ServiceContext for the script process and always closes it. `unboundedSql` lifts
 * mysql.statementTimeoutMs, for work whose statements may rightly run long (a migration's ALTER TABLE).
 */
export async function withContext<T>(
  fn: (ctx: ServiceContext) => Promise<T>,
  opts: { mq?: boolean; unboundedSql?: boolean } = {},
): Promise<T> {
  const loaded = cliConfig();
  const config = opts.unboundedSql ? { ...loaded, mysql: { ...loaded.mysql, statementTimeoutMs: 0 } } : loaded;
  const ctx = await createServiceContext(config, { process: 'script', mq: opts.mq ?? false }).catch((err: Error) => {
    throw new CliError(err.message);
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
