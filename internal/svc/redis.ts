import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';

/** One Redis, or Redis Cluster when redis.clusterNodes is set. */
export type RedisClient = Redis | Cluster;

/**
 * ioredis with the configured key prefix and auto-pipelining; connects eagerly so a missing Redis fails
 * at start-up, clearly. Later losses of the connection are logged once each (ioredis reconnects by itself).
 * Nothing waits on Redis without a bound: every command fails after redis.commandTimeoutMs (a stalled
 * server), and while the connection is down commands fail at once instead of queueing for its return.
 */
export async function openRedis(cfg: Config['redis'], logger?: Logger): Promise<RedisClient> {
  const redis = cfg.clusterNodes.length > 0 ? openCluster(cfg) : openSingle(cfg);
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
  const where =
    cfg.clusterNodes.length > 0 ? `Redis Cluster (${cfg.clusterNodes.join(', ')})` : `Redis at ${cfg.host}:${cfg.port}`;
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(
      `cannot connect to ${where}: ${(err as Error).message} (is it running? run deploy/local/datastores.sh, or fix redis.* in the config)`,
      { cause: err },
    );
  }
  return redis;
}

function openSingle(cfg: Config['redis'], overrides: Partial<RedisOptions> = {}): Redis {
  return new Redis({
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
    ...overrides,
  });
}

/**
 * Redis Cluster: the same prefix, timeouts and no offline queue; MOVED/ASK redirections and failovers are
 * followed by the client (docs/operations.md, "Redis Cluster"). Every multi-key command and script uses
 * keys of one hash tag, so it touches one slot.
 */
function openCluster(cfg: Config['redis'], overrides: Partial<ClusterOptions> = {}): Cluster {
  return new Cluster(
    cfg.clusterNodes.map((hp) => {
      const at = hp.lastIndexOf(':');
      return { host: hp.slice(0, at), port: Number(hp.slice(at + 1)) };
    }),
    {
      keyPrefix: cfg.keyPrefix,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      // Auto-pipelining groups commands by the slot of their first argument. For EVAL/EVALSHA that is the
      // script, not a key, so scripts on different nodes would share a pipeline and fail it whole
      // ("All keys in the pipeline should belong to the same slots allocation group"). Scripts go alone.
      autoPipeliningIgnoredCommands: ['eval', 'evalsha', 'fcall', 'fcall_ro'],
      slotsRefreshTimeout: 2000,
      // Redirections and a failover in progress are retried briefly, within the command's bound.
      maxRedirections: 6,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      redisOptions: {
        password: cfg.password || undefined,
        connectTimeout: 5000,
        commandTimeout: cfg.commandTimeoutMs,
        maxRetriesPerRequest: 0,
      },
      ...overrides,
    },
  );
}

/**
 * A connection for SUBSCRIBE (a subscribed connection runs nothing else). Unlike the command client it
 * queues a subscription made while it connects and subscribes again after a reconnect; errors are the
 * caller's to log. Channels are not key-prefixed by ioredis: callers put the prefix in the name.
 */
export function openSubscriber(cfg: Config['redis']): RedisClient {
  const options = { lazyConnect: false, enableOfflineQueue: true, autoResubscribe: true };
  return cfg.clusterNodes.length > 0
    ? openCluster(cfg, options)
    : openSingle(cfg, { ...options, commandTimeout: undefined, maxRetriesPerRequest: null });
}
