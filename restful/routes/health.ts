import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../../internal/svc/index.js';
import { readinessStatus, runChecks } from '../../internal/telemetry/index.js';

/**
 * Liveness and readiness (real dependency checks) on the API port, for the load balancer. Metrics are on
 * the admin port (restful/main.ts), never on the public one.
 */
export function healthRoutes(app: FastifyInstance, ctx: ServiceContext, state: { draining: boolean }): void {
  // Load balancers poll these: restful/access-log.ts logs them at debug, not on every poll at info.
  const hidden = { schema: { hide: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  app.get('/readyz', hidden, async (_req, reply) => {
    if (state.draining) return reply.status(503).send({ status: 'draining', checks: {} });
    const report = await runChecks(ctx.checks, ctx.degradable);
    return reply.status(readinessStatus(report)).send(report);
  });
}
