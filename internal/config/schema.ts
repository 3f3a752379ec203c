import { z } from 'zod';

// Environment overrides arrive as strings; these accept the typed YAML value or its string form.
const int = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().int().min(min).max(max));
const port = int(1, 65535);
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const list = z.preprocess(
  (v) =>
    typeof v === 'string'
      ? v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : v,
  z.array(z.string().min(1)),
);
const CRON = z
  .string()
  .regex(/^(\S+\s+){5}\S+$/, 'expected a 6-field cron expression (seconds first), e.g. "0 */5 * * * *"');
const hostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'expected host:port');

export const configSchema = z
  .strictObject({
    service: z.strictObject({
      name: z.string().min(1).default('qianfan-order'),
      env: z.enum(['dev', 'test', 'staging', 'production']).default('dev'),
      /** Unique per replica (0-127); part of the id generator's worker id. */
      instance: int(0, 127).default(0),
    }),
    log: z.strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    }),
    http: z.strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(8888),
      bodyLimitBytes: int(1024, 10 * 1024 * 1024).default(64 * 1024),
      trustProxy: bool.default(false),
      /** Requests per minute per client IP on /v1 (Redis fixed window). */
      rateLimitPerIpPerMinute: int(1, 1_000_000).default(1200),
      /** Requests per minute per authenticated user on /v1. */
      rateLimitPerUserPerMinute: int(1, 1_000_000).default(300),
      /** Above this event-loop delay the API sheds load with 503 + Retry-After. */
      maxEventLoopDelayMs: int(10, 60_000).default(1000),
    }),
    grpc: z.strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(9000),
      advertiseHost: z.string().min(1).default('127.0.0.1'),
      serviceTokens: list.default([]),
    }),
    admin: z.strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      /** restful's /metrics (and /healthz, /readyz) away from the public API port. */
      restfulPort: port.default(9100),
      servicePort: port.default(9101),
      consumerPort: port.default(9102),
      jobPort: port.default(9103),
    }),
    mysql: z.strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(3306),
      user: z.string().min(1).default('root'),
      password: z.string().default(''),
      database: z.string().regex(/^\w+$/, 'expected a database name of letters, digits and _'),
      poolSize: int(1, 512).default(16),
      /** Session innodb_lock_wait_timeout: how long one statement may wait for a row lock. */
      lockWaitTimeoutSeconds: int(1, 120).default(5),
    }),
    redis: z.strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(6379),
      password: z.string().default(''),
      db: int(0, 15).default(0),
      keyPrefix: z.string().default('qf:order:'),
    }),
    etcd: z.strictObject({
      endpoints: list.default(['http://127.0.0.1:2379']),
      prefix: z.string().startsWith('/').default('/qianfan/services/'),
      leaseTtlSeconds: int(2, 300).default(10),
    }),
    rocketmq: z.strictObject({
      endpoints: hostPort.default('127.0.0.1:8081'),
      namespace: z.string().default(''),
      startupTimeoutMs: int(500, 120_000).default(15_000),
      requestTimeoutMs: int(100, 60_000).default(3_000),
      /** A transaction message's local transaction refuses to commit this long after its half message. */
      localTxMaxMs: int(500, 120_000).default(10_000),
      /** The check-back rolls back a half message without a tx-log row only when it is older than this. */
      txRollbackAfterMs: int(1_500, 3_600_000).default(60_000),
      /** Receive calls in flight per consumer group (parallel queues / message groups). */
      consumerConcurrency: int(1, 64).default(4),
    }),
    tracing: z.strictObject({
      enabled: bool.default(false),
      otlpEndpoint: z.url().default('http://127.0.0.1:4318/v1/traces'),
      sampleRatio: z.preprocess((v) => (typeof v === 'string' ? Number(v) : v), z.number().min(0).max(1)).default(1),
    }),
    auth: z.strictObject({
      jwtAlgorithm: z.enum(['HS256', 'RS256']).default('HS256'),
      jwtSecret: z.string().default(''),
      jwtPublicKey: z.string().default(''),
      jwtIssuer: z.string().default('qianfan'),
    }),
    order: z.strictObject({
      paymentTimeoutMinutes: int(1, 24 * 60).default(30),
      autoConfirmDays: int(1, 60).default(10),
      refundWindowDays: int(0, 365).default(7),
    }),
    payment: z.strictObject({
      /** HMAC-SHA256 key the payment provider signs webhooks with (timestamp + '.' + body). */
      webhookSecret: z.string().min(16, 'expected at least 16 characters'),
      /** Largest accepted difference between a webhook's timestamp and our clock. */
      webhookToleranceSeconds: int(10, 3600).default(300),
      /** Providers this deployment accepts; `sandbox` needs payment.sandbox.enabled. */
      providers: list.default([]),
      sandbox: z
        .strictObject({
          /**
           * The sandbox provider and its payer (POST /v1/sandbox/..., `qianfan-order sandbox`): development
           * and tests only. Refused in production.
           */
          enabled: bool.default(false),
        })
        .default({ enabled: false }),
    }),
    flashSale: z
      .strictObject({
        /** Tickets per flashsale_ticket message: a batch is sent at this many tickets... */
        batchSize: int(1, 1000).default(100),
        /** ...or this long after its first ticket, whichever comes first. */
        batchIntervalMs: int(10, 60_000).default(1000),
        /** Tickets buffered in one restful process at most; purchases wait for room beyond it. */
        maxBuffered: int(1, 1_000_000).default(20_000),
        /** A ticket still queued this long after purchase is re-sent by the flashsale-requeue job. */
        requeueAfterSeconds: int(2, 3600).default(15),
      })
      .default({ batchSize: 100, batchIntervalMs: 1000, maxBuffered: 20_000, requeueAfterSeconds: 15 }),
    /** Job schedules: node-cron expressions with a seconds field, in UTC. */
    jobs: z
      .strictObject({
        closeExpiredOrders: CRON.default('15 * * * * *'),
        autoConfirmReceipts: CRON.default('0 5 * * * *'),
        resendRefunds: CRON.default('30 */5 * * * *'),
        reconcilePayments: CRON.default('45 */10 * * * *'),
        flashsaleRequeue: CRON.default('*/5 * * * * *'),
        reconcileFlashSales: CRON.default('30 * * * * *'),
        cleanupExpired: CRON.default('0 17 * * * *'),
      })
      .default({
        closeExpiredOrders: '15 * * * * *',
        autoConfirmReceipts: '0 5 * * * *',
        resendRefunds: '30 */5 * * * *',
        reconcilePayments: '45 */10 * * * *',
        flashsaleRequeue: '*/5 * * * * *',
        reconcileFlashSales: '30 * * * * *',
        cleanupExpired: '0 17 * * * *',
      }),
    shutdown: z.strictObject({
      drainTimeoutMs: int(100, 60_000).default(8_000),
    }),
  })
  .superRefine((c, issues) => {
    const add = (path: string[], message: string) => issues.addIssue({ code: 'custom', path, message });
    if (c.rocketmq.txRollbackAfterMs < 3 * c.rocketmq.localTxMaxMs) {
      add(
        ['rocketmq', 'txRollbackAfterMs'],
        'must be at least 3 x rocketmq.localTxMaxMs, or a committed change could lose its event',
      );
    }
    if (c.payment.providers.includes('sandbox') && !c.payment.sandbox.enabled) {
      add(['payment', 'providers'], "lists 'sandbox' but payment.sandbox.enabled is false");
    }
    const devOnly = c.service.env === 'dev' || c.service.env === 'test';
    if (c.payment.sandbox.enabled && c.service.env === 'production') {
      add(['payment', 'sandbox', 'enabled'], 'the sandbox payer must not be enabled in production');
    }
    if (!devOnly && DEV_SECRETS.has(c.payment.webhookSecret)) {
      add(
        ['payment', 'webhookSecret'],
        `is the development secret; set QIANFAN_PAYMENT__WEBHOOK_SECRET for ${c.service.env}`,
      );
    }
    if (!devOnly && DEV_SECRETS.has(c.auth.jwtSecret)) {
      add(['auth', 'jwtSecret'], `is the development secret; set QIANFAN_AUTH__JWT_SECRET for ${c.service.env}`);
    }
  });

/** Secrets committed in config/default.yaml and config/test.yaml: accepted only when service.env is dev or test. */
export const DEV_SECRETS = new Set(['dev-only-jwt-secret-change-me-0123456789', 'dev-only-webhook-secret-0123456789']);

export type Config = z.infer<typeof configSchema>;
