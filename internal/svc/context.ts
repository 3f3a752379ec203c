import type { Tracer } from '@opentelemetry/api';
import type { Etcd3 } from 'etcd3';
import type { Registry } from 'prom-client';
import type { Config } from '../config/index.js';
import { AppError } from '../errorx/index.js';
import { IdGenerator, type ProcessName } from '../ids/index.js';
import { MqProducer, topics, txLogChecker } from '../mq/index.js';
import {
  createLogger,
  createMetrics,
  createTracing,
  type Logger,
  type ReadinessCheck,
  serviceMetrics,
  type Tracing,
} from '../telemetry/index.js';
import { traceMysql, traceRedis } from './client-spans.js';
import { type Db, openDatabase, type Pool } from './db.js';
import { openEtcd } from './etcd.js';
import { poolMetrics } from './pool-metrics.js';
import type { RedisClient as Redis } from './redis.js';
import { openRedis } from './redis.js';

/**
 * Everything a use case may touch, built once per process from config and passed as the first
 * argument to every use case. `close()` releases it all, newest first.
 */
export interface ServiceContext {
  config: Config;
  process: ProcessName;
  logger: Logger;
  metrics: Registry;
  tracer: Tracer;
  ids: IdGenerator;
  db: Db;
  pool: Pool;
  redis: Redis;
  /** Present when the process was built with `mq: true`. */
  mq: MqProducer | undefined;
  /** Present when the process was built with `etcd: true`. */
  etcd: Etcd3 | undefined;
  /** Readiness checks of the dependencies this context opened; served by /readyz. */
  checks: Record<string, ReadinessCheck>;
  /**
   * Checks this process serves without (reported as degraded, still ready): Redis for restful and
   * service, whose request paths go on without it (no cache, limiter open).
   */
  degradable: readonly string[];
  close(): Promise<void>;
}

export interface ContextOptions {
  process: ProcessName;
  mq?: boolean;
  etcd?: boolean;
  /** Tests pass an in-memory span exporter. */
  spanExporter?: Parameters<typeof createTracing>[0]['exporter'];
  logger?: Logger;
}

export async function createServiceContext(config: Config, opts: ContextOptions): Promise<ServiceContext> {
  const logger =
    opts.logger ?? createLogger({ service: config.service.name, process: opts.process, level: config.log.level });
  const closers: Array<[string, () => Promise<unknown> | unknown]> = [];
  const close = async () => {
    for (const [name, fn] of closers.reverse()) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err, resource: name }, 'error while closing');
      }
    }
    closers.length = 0;
  };

  try {
    const tracing: Tracing = createTracing({
      service: config.service.name,
      process: opts.process,
      enabled: config.tracing.enabled,
      otlpEndpoint: config.tracing.otlpEndpoint,
      sampleRatio: config.tracing.sampleRatio,
      exporter: opts.spanExporter,
    });
    closers.push(['tracing', () => tracing.shutdown()]);

    const metrics = createMetrics({ service: config.service.name, process: opts.process });
    const { pool, db } = await openDatabase(config.mysql);
    closers.push(['mysql', () => pool.end()]);
    poolMetrics(metrics, pool);
    const redis = await openRedis(config.redis, logger);
    if (tracing.recording) {
      traceMysql(pool, tracing.tracer, config.mysql.database);
      traceRedis(redis, tracing.tracer);
    }
    closers.push(['redis', () => redis.quit()]);

    const checks: Record<string, ReadinessCheck> = {
      mysql: async () => {
        await pool.query('SELECT 1');
      },
      redis: async () => {
        await redis.ping();
      },
    };

    let etcd: Etcd3 | undefined;
    if (opts.etcd) {
      const client = await openEtcd(config.etcd);
      etcd = client;
      closers.push(['etcd', () => client.close()]);
      checks.etcd = async () => {
        await client.maintenance.status();
      };
    }

    let mq: MqProducer | undefined;
    if (opts.mq) {
      const producer = new MqProducer({
        ...config.rocketmq,
        topics: Object.values(topics).map((t) => t.name),
        checker: txLogChecker(db, config.rocketmq.txRollbackAfterMs, Date.now, (answer) =>
          serviceMetrics(metrics).txChecks.inc({ answer }),
        ),
        logger,
      });
      await producer.start();
      mq = producer;
      closers.push(['rocketmq producer', () => producer.close()]);
      checks.rocketmq = async () => {
        if (!producer.isRunning()) throw new Error('producer is not running');
      };
    }

    return {
      config,
      process: opts.process,
      logger,
      metrics,
      tracer: tracing.tracer,
      ids: IdGenerator.forProcess(config.service.instance, opts.process),
      db,
      pool,
      redis,
      mq,
      etcd,
      checks,
      degradable: opts.process === 'restful' || opts.process === 'service' ? ['redis'] : [],
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The context's RocketMQ producer; a process built without one cannot change orders. */
export function requireMq(ctx: ServiceContext): MqProducer {
  if (!ctx.mq)
    throw new AppError('DEPENDENCY_UNAVAILABLE', 'this process has no RocketMQ producer; order changes need one');
  return ctx.mq;
}
