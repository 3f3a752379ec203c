import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyToken } from '../internal/auth/index.js';
import { markRedisFailed, redisBypassed } from '../internal/cache/index.js';
import { AppError } from '../internal/errorx/index.js';
import { type RateDecision, rateLimiter } from '../internal/ratelimit/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { BEARER } from './auth.js';
import { installLoadShedding } from './load-shed.js';

/**
 * Load shedding (restful/load-shed.ts), then, on /v1, who the caller is and the
 * Redis-backed rate limits: per client IP for every request, and per user when the bearer token is
 * valid. The counters are shared by every restful process through Redis, which this process claims
 * hits from in blocks (internal/ratelimit): a busy key makes a round trip per block, not per request.
 * A missing or invalid token is not refused here: it still counts against the IP, and routes that need
 * a user answer 401 (auth.ts). A Redis outage lets requests through: a failed or timed-out claim
 * (redis.commandTimeoutMs) opens the limiter, and for the next REDIS_BYPASS_MS (internal/cache) no
 * request waits on Redis for it, nor for the caches.
 */
export function installProtection(app: FastifyInstance, ctx: ServiceContext): void {
  const { maxEventLoopDelayMs, rateLimitPerIpPerMinute, rateLimitPerUserPerMinute } = ctx.config.http;
  installLoadShedding(app, maxEventLoopDelayMs);
  const limiter = rateLimiter(ctx.redis);
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    await identify(ctx, req);
    // Payment providers' notifications are limited per provider after their signature is checked
    // (restful/routes/webhooks.ts), never by the budgets meant for people.
    if (req.url.startsWith(WEBHOOK_PATH)) return;
    if (redisBypassed(ctx.redis)) return;
    const userId = req.principal?.userId;
    let decisions: RateDecision[];
    try {
      decisions = await Promise.all([
        limiter.hit(`ip:${req.ip}`, rateLimitPerIpPerMinute, 60_000),
        ...(userId === undefined ? [] : [limiter.hit(`user:${userId}`, rateLimitPerUserPerMinute, 60_000)]),
      ]);
    } catch (err) {
      if (!markRedisFailed(ctx.redis)) ctx.logger.warn({ err }, 'rate limiter unavailable; letting requests through');
      return;
    }
    refuseOverLimit(reply, decisions);
  });
}

export const WEBHOOK_PATH = '/v1/payments/webhooks/';

/** Sets req.principal from a valid bearer token, or req.authError saying what is wrong with it. */
async function identify(ctx: ServiceContext, req: FastifyRequest): Promise<void> {
  const header = req.headers.authorization;
  if (header === undefined) return;
  const token = BEARER.exec(header)?.[1];
  if (!token) {
    req.authError = new AppError('UNAUTHENTICATED', 'send Authorization: Bearer <JWT>');
    return;
  }
  try {
    req.principal = await verifyToken(ctx.config.auth, token);
  } catch (err) {
    req.authError = err;
  }
}

function refuseOverLimit(reply: FastifyReply, decisions: RateDecision[]) {
  let remaining = Number.POSITIVE_INFINITY;
  let refused: RateDecision | undefined;
  for (const d of decisions) {
    remaining = Math.min(remaining, d.remaining);
    if (!d.allowed && (!refused || d.retryAfterSeconds > refused.retryAfterSeconds)) refused = d;
  }
  reply.header('x-ratelimit-remaining', remaining);
  if (refused) {
    reply.header('retry-after', refused.retryAfterSeconds);
    throw new AppError('RATE_LIMITED', `too many requests; retry after ${refused.retryAfterSeconds} s`);
  }
}
