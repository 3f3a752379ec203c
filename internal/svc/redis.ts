import { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';

/**
 * ioredis with the configured key prefix and auto-pipelining; connects eagerly so a missing Redis fails
 * at start-up, clearly. Later losses of the connection are logged once each (ioredis reconnects by itself).
 * Nothing waits on Redis without a bound: every command fails after redis.commandTimeoutMs (a stalled
 * server), and while the connection is down commands fail at once instead of queueing for its return.
 */
export async function openRedis(cfg: Config['redis'], logger?: Logger): Promise<Redis> {
  const redis = new Redis({
    host: cfg.host,
    port: cfg.port,
    password: cfg.password || undefined,
    db: cfg.db,
    keyPrefix: cfg.keyPrefix,
    lazyConnect: true,
    connectTimeout: 5000,
    commandTimeout: cfg.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Commands issued in the same event-loop tick go out in one write (one syscall instead of one each).
    enableAutoPipelining: true,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger?.warn({ err: { message: err.message } }, 'Redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger?.warn('Redis connection restored');
  });
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `cannot connect to Redis at ${cfg.host}:${cfg.port}: ${(err as Error).message} (is it running? run deploy/local/datastores.sh, or fix redis.* in the config)`,
      { cause: err },
    );
  }
  return redis;
}
