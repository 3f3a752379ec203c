import type { Config } from '../config/index.js';
import { ConfigError, loadConfig } from '../config/index.js';
import type { ProcessName } from '../ids/index.js';
import { createLogger, type Logger } from '../telemetry/index.js';
import { type ContextOptions, createServiceContext, type ServiceContext } from './context.js';
import { claimWorkerId, WorkerIdTaken } from './worker-claim.js';

export interface Running {
  /** Stop taking new work and finish what is in flight. */
  drain(): Promise<void>;
}

/**
 * The shape of every process's main(): config -> context -> start -> on SIGTERM/SIGINT drain,
 * close the context and exit 0. A drain that overruns shutdown.drainTimeoutMs exits 1.
 * Bad config exits 2 with the message naming the key, and so does a worker id (service.instance) that a
 * live process holds; a dependency that cannot be reached exits 1.
 */
export async function runProcess(
  name: ProcessName,
  deps: Omit<ContextOptions, 'process'>,
  start: (ctx: ServiceContext) => Promise<Running>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`qianfan-order ${name}: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: config.service.name, process: name, level: config.log.level });
  process.on('uncaughtException', (err) => fatal(logger, err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => fatal(logger, err, 'unhandled rejection'));

  let ctx: ServiceContext;
  let running: Running;
  let claim: Awaited<ReturnType<typeof claimWorkerId>>;
  try {
    ctx = await createServiceContext(config, { ...deps, process: name, logger });
    claim = await claimWorkerId({
      redis: ctx.redis,
      workerId: Number(ctx.ids.workerId),
      process: name,
      logger,
      lost: (holder) => {
        // Another process makes ids with our worker id: stop before making any more.
        logger.fatal({ holder }, `${name} lost its worker id; exiting`);
        void flushAndExit(logger, 1);
      },
    });
    running = await start(ctx);
  } catch (err) {
    if (err instanceof WorkerIdTaken) {
      process.stderr.write(`qianfan-order ${name}: ${err.message}\n`);
      await flushAndExit(logger, 2);
    }
    logger.fatal({ err }, `${name} failed to start: ${(err as Error).message}`);
    await flushAndExit(logger, 1);
    return;
  }
  logger.info({ env: config.service.env }, `${name} started`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} stopping: draining in-flight work`);
    const timer = setTimeout(() => {
      logger.error({ drainTimeoutMs: config.shutdown.drainTimeoutMs }, `${name} did not drain in time; exiting`);
      void flushAndExit(logger, 1);
    }, config.shutdown.drainTimeoutMs);
    timer.unref();
    try {
      await running.drain();
      await claim.release();
      await ctx.close();
      logger.info(`${name} stopped`);
      await flushAndExit(logger, 0);
    } catch (err) {
      logger.error({ err }, `${name} stop failed`);
      await flushAndExit(logger, 1);
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

function fatal(logger: Logger, err: unknown, what: string): void {
  logger.fatal({ err }, what);
  void flushAndExit(logger, 1);
}

async function flushAndExit(logger: Logger, code: number): Promise<never> {
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  process.exit(code);
}
