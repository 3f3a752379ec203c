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

/** Runs `fn` with a ServiceContext for the script process and always closes it. */
export async function withContext<T>(fn: (ctx: ServiceContext) => Promise<T>, opts: { mq?: boolean } = {}): Promise<T> {
  const config = cliConfig();
  const ctx = await createServiceContext(config, { process: 'script', mq: opts.mq ?? false }).catch((err: Error) => {
    throw new CliError(err.message);
  });
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
