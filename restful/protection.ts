import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../internal/errorx/index.js';
import { hit } from '../internal/ratelimit/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

/**
 * Load shedding (503 + Retry-After when the event loop lags) and Redis-backed rate limits on /v1:
 * per client IP before authentication, per user after it. A Redis outage lets requests through.
 */
export async function installProtection(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  const { maxEventLoopDelayMs, rateLimitPerIpPerMinute } = ctx.config.http;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    retryAfter: 5,
    exposeStatusRoute: false,
    pressureHandler: (_req, reply, type, value) => {
      void reply
        .status(503)
        .header('retry-after', '5')
        .send({
          code: 'OVERLOADED',
          message: `the service is overloaded (${type} ${value}); retry after 5 s`,
          requestId: String(_req.id),
        });
    },
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    await limit(ctx, reply, `ip:${req.ip}`, rateLimitPerIpPerMinute);
  });
}

/** preHandler after authentication: the per-user limit. */
export function userRateLimit(ctx: ServiceContext) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.principal)
      await limit(ctx, reply, `user:${req.principal.userId}`, ctx.config.http.rateLimitPerUserPerMinute);
  };
}

async function limit(ctx: ServiceContext, reply: FastifyReply, key: string, perMinute: number) {
  let d: Awaited<ReturnType<typeof hit>>;
  try {
    d = await hit(ctx.redis, key, perMinute, 60_000);
  } catch (err) {
    ctx.logger.warn({ err }, 'rate limiter unavailable; letting the request through');
    return;
  }
  reply.header('x-ratelimit-remaining', d.remaining);
  if (!d.allowed) {
    reply.header('retry-after', d.retryAfterSeconds);
    throw new AppError('RATE_LIMITED', `too many requests; retry after ${d.retryAfterSeconds} s`);
  }
}
