import { createPublicKey } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import { list } from './coerce.js';
import { callersSchema, grpcSecurityProblems, grpcTlsSchema, serviceTokensSchema } from './grpc-security.js';
import { alipaySchema, providerConfigProblems, wechatpaySchema } from './payment-providers.js';
import { rolePermissionsSchema } from './permissions.js';

// Environment overrides arrive as strings; these accept the typed YAML value or its string form.
const int = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v), z.number().int().min(min).max(max));
const port = int(1, 65535);
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const CRON = z
  .string()
  .regex(/^(\S+\s+){5}\S+$/, 'expected a 6-field cron expression (seconds first), e.g. "0 */5 * * * *"');
const hostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, 'expected host:port');

/** proxy-addr's names for address ranges, accepted in http.trustProxy beside addresses and CIDRs. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const isAddressOrCidr = (s: string) => {
  if (PROXY_RANGE_NAMES.has(s)) return true;
  const [addr, bits, ...rest] = s.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
};
/**
 * Which hops' X-Forwarded-For to believe, in the forms Fastify takes: false (none: the peer is the
 * client), a hop count, or the proxies' addresses / CIDRs (env: comma-separated). `true` believes any
 * sender's header.
 */
const trustProxy = z.preprocess(
  (v) => {
    if (typeof v !== 'string') return v;
    const t = v.trim();
    if (t === 'true' || t === 'false') return t === 'true';
    if (/^\d+$/.test(t)) return Number(t);
    return t
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  },
  z.union([
    z.boolean(),
    z.number().int().min(1).max(16),
    z
      .array(
        z
          .string()
          .refine(isAddressOrCidr, 'expected an IP address, a CIDR (10.0.0.0/8) or loopback|linklocal|uniquelocal'),
      )
      .min(1),
  ]),
);

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
      trustProxy: trustProxy.default(false),
      /** Requests per minute per client IP on /v1 (Redis fixed window). */
      rateLimitPerIpPerMinute: int(1, 1_000_000).default(1200),
      /** Requests per minute per authenticated user on /v1. */
      rateLimitPerUserPerMinute: int(1, 1_000_000).default(300),
      /**
       * Signature-verified payment webhooks per minute per provider, across all replicas. Webhooks are
       * outside the per-IP and per-user limits (a provider's notifications come from few addresses).
       */
      webhookRateLimitPerProviderPerMinute: int(1, 10_000_000).default(60_000),
      /** Above this event-loop delay the API sheds load with 503 + Retry-After. */
      maxEventLoopDelayMs: int(10, 60_000).default(1000),
      /** Live order status (GET /v1/orders/{id}/events): open streams per user in one restful process. */
      orderStreamsPerUser: int(1, 1000).default(5),
      /** Open order streams in one restful process. */
      orderStreamsPerProcess: int(1, 1_000_000).default(10_000),
      /** A comment line this often keeps proxies from closing an idle stream; the order is re-read too. */
      orderStreamHeartbeatMs: int(100, 120_000).default(15_000),
      /**
       * A request's MySQL waits end this long after it arrived (DEPENDENCY_UNAVAILABLE, 503 + Retry-After),
       * however many statements it meets; keep it below the proxy's read timeout (nginx: 30 s). Streams
       * (order events, exports) have none. 0: no deadline.
       */
      requestDeadlineMs: int(0, 600_000).default(25_000),
    }),
    grpc: z.strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(9000),
      advertiseHost: z.string().min(1).default('127.0.0.1'),
      /** `<caller>:<token>` entries; the caller's name is what logs and idempotency scopes record. */
      serviceTokens: serviceTokensSchema.default([]),
      /** Methods each caller may call (docs/operations.md, "gRPC callers"). */
      callers: callersSchema,
      tls: grpcTlsSchema,
      /** Outside dev/test, plaintext gRPC only with this set (a mesh sidecar terminates TLS). */
      allowPlaintext: bool.default(false),
      /** WatchOrder streams open at once in one service process, per user_id and in all. */
      watchStreamsPerUser: int(1, 1000).default(5),
      watchStreamsPerProcess: int(1, 1_000_000).default(10_000),
      /** A heartbeat message this often on an idle WatchOrder stream; the order is re-read too. */
      watchHeartbeatMs: int(100, 120_000).default(15_000),
      /**
       * A unary call's MySQL waits end this long after it arrived, or at the caller's deadline if sooner
       * (DEPENDENCY_UNAVAILABLE, gRPC UNAVAILABLE). 0: only the caller's deadline.
       */
      requestDeadlineMs: int(0, 600_000).default(25_000),
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
      /**
       * Longest one SQL statement may take to be answered; 0: no bound (the CLI's migrate). Past it the
       * connection is closed and the caller gets DEPENDENCY_UNAVAILABLE (HTTP 503, gRPC UNAVAILABLE, a
       * consumer's retry): a MySQL that stalls fails requests instead of holding them. Above the lock
       * wait bound, so a statement waiting for a row lock gets the lock-wait error first.
       */
      statementTimeoutMs: int(0, 3_600_000).default(10_000),
      /** Longest a caller waits for a pool connection (all in use, or a new one not connecting). */
      acquireTimeoutMs: int(100, 600_000).default(10_000),
    }),
    redis: z.strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(6379),
      password: z.string().default(''),
      db: int(0, 15).default(0),
      keyPrefix: z.string().default('qf:order:'),
      /**
       * Longest one Redis command may take before it fails (ioredis commandTimeout). Redis accelerates
       * requests: past this a request goes on without it (no cache, limiter open) instead of waiting.
       */
      commandTimeoutMs: int(20, 60_000).default(500),
      /**
       * Redis Cluster seed nodes (`host:port`, env comma-separated). When set, every process uses the
       * cluster client and host/port/db are not used; empty is one Redis at host:port.
       */
      clusterNodes: list.pipe(z.array(hostPort)).default([]),
    }),
    etcd: z.strictObject({
      endpoints: list.default(['http://127.0.0.1:2379']),
      prefix: z.string().startsWith('/').default('/qianfan/services/'),
      leaseTtlSeconds: int(2, 300).default(10),
    }),
    rocketmq: z.strictObject({
      endpoints: hostPort.default('127.0.0.1:8081'),
      /** A prefix `<namespace>_` of every topic and group name (internal/mq/names.ts); empty for none. */
      namespace: z
        .string()
        .regex(/^[A-Za-z0-9-]{0,32}$/, 'expected up to 32 letters, digits or -')
        .default(''),
      startupTimeoutMs: int(500, 120_000).default(15_000),
      requestTimeoutMs: int(100, 60_000).default(3_000),
      /** A transaction message's local transaction refuses to commit this long after its half message. */
      localTxMaxMs: int(500, 120_000).default(10_000),
      /** The check-back rolls back a half message without a tx-log row only when it is older than this. */
      txRollbackAfterMs: int(1_500, 3_600_000).default(60_000),
      /** Receive calls in flight per consumer group (parallel queues / message groups). */
      consumerConcurrency: int(1, 64).default(4),
      /**
       * The furthest ahead this service schedules a delay message; a later deadline (a return's) hops there
       * and schedules itself again. Keep it within the broker's timerMaxDelaySec.
       */
      maxDelaySeconds: int(1, 30 * 86_400).default(86_400),
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
      /** When set, a token's `aud` must include it. */
      audience: z.string().default(''),
      /** When above 0, a token issued (`iat`) longer ago than this is refused, whatever its `exp`. */
      maxTokenAgeSeconds: int(0, 365 * 24 * 3600).default(0),
      /** Roles granted admin permissions (the role `admin` has them all): `support: [orders:read]`. */
      rolePermissions: rolePermissionsSchema,
    }),
    order: z.strictObject({
      paymentTimeoutMinutes: int(1, 24 * 60).default(30),
      autoConfirmDays: int(1, 60).default(10),
      /** A SHIPPED order with no delivery signal completes this many days after its last parcel left. */
      autoCompleteShippedDays: int(1, 90).default(15),
      refundWindowDays: int(0, 365).default(7),
      /** A buyer's refund of units not shipped yet is approved without review (otherwise the merchant reviews it). */
      autoApproveUnshippedRefunds: bool.default(false),
      /** An approved return not sent back within this many days is closed (job close-stale-after-sales). */
      returnShipDays: int(1, 60).default(7),
      /** Orders one buyer may have in PENDING_PAYMENT at once; the next create is refused (TOO_MANY_PENDING_ORDERS). */
      maxPendingOrdersPerUser: int(1, 1_000_000).default(10),
      /** Units one buyer may hold reserved in PENDING_PAYMENT orders at once. */
      maxPendingUnitsPerUser: int(1, 1_000_000).default(200),
    }),
    payment: z.strictObject({
      /** HMAC-SHA256 key the payment provider signs webhooks with (timestamp + '.' + body). */
      webhookSecret: z.string().min(16, 'expected at least 16 characters'),
      /** Largest accepted difference between a webhook's timestamp and our clock. */
      webhookToleranceSeconds: int(10, 3600).default(300),
      /** Longest one call to a payment provider may take (start, query, refund). */
      providerTimeoutMs: int(100, 60_000).default(5_000),
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
      /** WeChat Pay APIv3 merchant settings (needed when providers lists wechatpay); docs/payments.md. */
      wechatpay: wechatpaySchema,
      /** Alipay open-platform app settings (needed when providers lists alipay); docs/payments.md. */
      alipay: alipaySchema,
    }),
    flashSale: z
      .strictObject({
        /** Tickets per flashsale_ticket message: a batch is sent at this many tickets... */
        batchSize: int(1, 1000).default(100),
        /** ...or this long after its first ticket, whichever comes first. */
        batchIntervalMs: int(10, 60_000).default(1000),
        /** Tickets buffered in one restful process at most; purchases wait for room beyond it. */
        maxBuffered: int(1, 1_000_000).default(20_000),
        /**
         * A ticket still queued and never sent this long after purchase (its restful process died with
         * it buffered, or the send failed) is re-sent by the flashsale-requeue job. Above batchIntervalMs
         * plus rocketmq.requestTimeoutMs, or a batch still being sent goes twice (the consumer skips the
         * second).
         */
        requeueAfterSeconds: int(2, 3600).default(5),
        /**
         * How a batch's new orders are published on order_event: `batch`, one `order.created.batch`
         * transaction message per batch carrying every order's `order.created` event; `each`, one
         * `order.created` message per order (for downstream consumers that do not read the batch yet).
         */
        orderCreatedEvents: z.enum(['batch', 'each']).default('batch'),
      })
      .default({
        batchSize: 100,
        batchIntervalMs: 1000,
        maxBuffered: 20_000,
        requeueAfterSeconds: 5,
        orderCreatedEvents: 'batch',
      }),
    /** Job schedules: node-cron expressions with a seconds field, in UTC. */
    jobs: z
      .strictObject({
        closeExpiredOrders: CRON.default('15 * * * * *'),
        autoConfirmReceipts: CRON.default('0 5 * * * *'),
        resendRefunds: CRON.default('30 */5 * * * *'),
        reconcilePayments: CRON.default('45 */10 * * * *'),
        flashsaleRequeue: CRON.default('*/2 * * * * *'),
        reconcileFlashSales: CRON.default('30 * * * * *'),
        redriveDeadLetters: CRON.default('50 */5 * * * *'),
        cleanupExpired: CRON.default('0 17 * * * *'),
        auditInvariants: CRON.default('20 */10 * * * *'),
        closeStaleAfterSales: CRON.default('40 25 * * * *'),
      })
      .default({
        closeExpiredOrders: '15 * * * * *',
        autoConfirmReceipts: '0 5 * * * *',
        resendRefunds: '30 */5 * * * *',
        reconcilePayments: '45 */10 * * * *',
        flashsaleRequeue: '*/2 * * * * *',
        reconcileFlashSales: '30 * * * * *',
        redriveDeadLetters: '50 */5 * * * *',
        cleanupExpired: '0 17 * * * *',
        auditInvariants: '20 */10 * * * *',
        closeStaleAfterSales: '40 25 * * * *',
      }),
    shutdown: z.strictObject({
      drainTimeoutMs: int(100, 60_000).default(15_000),
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
    if (c.mysql.statementTimeoutMs > 0 && c.mysql.statementTimeoutMs <= c.mysql.lockWaitTimeoutSeconds * 1000) {
      add(
        ['mysql', 'statementTimeoutMs'],
        'must be above mysql.lockWaitTimeoutSeconds (or 0 for no bound), so a lock wait ends with its own error',
      );
    }
    if (c.redis.clusterNodes.length > 0 && c.redis.db !== 0) {
      add(['redis', 'db'], 'Redis Cluster has only database 0: leave redis.db at 0 with redis.clusterNodes');
    }
    if (c.payment.providers.includes('sandbox') && !c.payment.sandbox.enabled) {
      add(['payment', 'providers'], "lists 'sandbox' but payment.sandbox.enabled is false");
    }
    const devOnly = c.service.env === 'dev' || c.service.env === 'test';
    for (const name of c.payment.providers) {
      if (!KNOWN_PROVIDERS.includes(name)) {
        add(['payment', 'providers'], `names unknown provider '${name}' (known: ${KNOWN_PROVIDERS.join(', ')})`);
      }
    }
    for (const [path, message] of providerConfigProblems(
      c.payment.providers,
      c.payment.wechatpay,
      c.payment.alipay,
      !devOnly,
    )) {
      add(path, message);
    }
    if (c.auth.jwtAlgorithm === 'HS256' && c.auth.jwtSecret.length < 32) {
      add(['auth', 'jwtSecret'], 'HS256 needs a secret of at least 32 characters (set QIANFAN_AUTH__JWT_SECRET)');
    }
    if (c.auth.jwtAlgorithm === 'RS256' && !isPublicKey(c.auth.jwtPublicKey)) {
      add(['auth', 'jwtPublicKey'], 'RS256 needs a PEM public key (set QIANFAN_AUTH__JWT_PUBLIC_KEY)');
    }
    for (const [path, message] of grpcSecurityProblems(c.grpc, c.service.env, !devOnly)) add(path, message);
    if (devOnly) return;
    // Staging and production: nothing that is only safe in development.
    if (c.payment.sandbox.enabled) {
      add(['payment', 'sandbox', 'enabled'], `the sandbox payer is for dev and test only, not ${c.service.env}`);
    }
    if (c.payment.providers.includes('sandbox')) {
      add(
        ['payment', 'providers'],
        `lists 'sandbox', which takes no money; ${c.service.env} lists real providers only`,
      );
    }
    if (c.http.trustProxy === true) {
      add(
        ['http', 'trustProxy'],
        "true lets any client choose its IP with X-Forwarded-For; give the proxies' addresses/CIDRs or a hop count",
      );
    }
    const secrets: Array<[string[], string, { min?: number }]> = [
      [['payment', 'webhookSecret'], c.payment.webhookSecret, { min: 32 }],
      ...(c.payment.providers.includes('wechatpay')
        ? [
            [['payment', 'wechatpay', 'apiV3Key'], c.payment.wechatpay.apiV3Key, { min: 32 }] as [
              string[],
              string,
              { min?: number },
            ],
          ]
        : []),
      [['mysql', 'password'], c.mysql.password, {}],
      [['redis', 'password'], c.redis.password, {}],
      ...c.grpc.serviceTokens.flatMap(
        ({ caller, token }, i): Array<[string[], string, { min?: number }]> =>
          caller ? [[['grpc', 'serviceTokens', String(i)], token, { min: 32 }]] : [],
      ),
    ];
    if (c.auth.jwtAlgorithm === 'HS256') secrets.push([['auth', 'jwtSecret'], c.auth.jwtSecret, { min: 32 }]);
    for (const [path, value, { min }] of secrets) {
      const problem = secretProblem(value, min);
      if (problem) add(path, `${problem}; ${c.service.env} needs a secret of its own from the secret manager`);
    }
  });

/** Payment providers this build has (payment.providers may name only these). */
export const KNOWN_PROVIDERS = ['sandbox', 'wechatpay', 'alipay'];

/**
 * Every secret value committed anywhere in this repository (config/*.yaml, deploy/): accepted only when
 * service.env is dev or test. test/config.test.ts checks that each secret in those files is listed here.
 */
export const DEV_SECRETS = new Set([
  'dev-only-jwt-secret-change-me-0123456789',
  'dev-only-webhook-secret-0123456789',
  'dev-service-token',
  'local-compose-secret-change-me-0123456789',
  'local-compose-webhook-secret-0123456789',
  'local-compose-service-token',
  'qianfan-local',
  'change-me',
  'change-me-to-32-or-more-characters-please',
]);

/** Why a secret is unfit outside dev/test, or undefined. An empty store password is allowed (IAM auth, no AUTH). */
function secretProblem(value: string, min?: number): string | undefined {
  if (min === undefined && value === '') return undefined;
  if (DEV_SECRETS.has(value)) return 'is a value committed in this repository';
  if (/change-?me/i.test(value)) return "is a placeholder (contains 'change-me')";
  if (min !== undefined && value.length < min) return `is shorter than ${min} characters`;
  return undefined;
}

function isPublicKey(pem: string): boolean {
  try {
    return createPublicKey(pem).type === 'public';
  } catch {
    return false;
  }
}

export type Config = z.infer<typeof configSchema>;
