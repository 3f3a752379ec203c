import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../internal/svc/index.js';
import { runChecks } from '../../internal/telemetry/index.js';

/** Liveness, readiness (real dependency checks) and Prometheus metrics on the API port. */
export function healthRoutes(app: FastifyInstance, ctx: ServiceContext, state: { draining: boolean }): void {
  const hidden = { schema: { hide: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async (_req, reply) => {
    if (state.draining) return reply.status(503).send({ status: 'draining', checks: {} });
    const report = await runChecks(ctx.checks);
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.get('/metrics', hidden, async (_req, reply) => {
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.metrics();
  });
}
