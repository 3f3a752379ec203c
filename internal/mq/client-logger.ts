import { format } from 'node:util';
import type { Logger } from '../telemetry/index.js';

/** Routes rocketmq-client-nodejs's printf-style logging into pino, one level quieter than it asks. */
export function clientLogger(logger: Logger) {
  const child = logger.child({ component: 'rocketmq-client' });
  const fmt = (args: unknown[]) => format(...args);
  return {
    debug: (...args: unknown[]) => child.trace(fmt(args)),
    info: (...args: unknown[]) => child.debug(fmt(args)),
    warn: (...args: unknown[]) => child.warn(fmt(args)),
    error: (...args: unknown[]) => child.error(fmt(args)),
  };
}
