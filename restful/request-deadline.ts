import type { FastifyInstance } from 'fastify';
import { requestDeadline, withRequestDeadline } from '../internal/svc/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A stream that lasts as long as the client wants (SSE, an export): no request deadline. */
    longLived?: boolean;
  }
}

/**
 * Each request's MySQL waits are cut at `ms` after it arrived (internal/svc/request-deadline.ts), so a
 * request that meets several slow statements answers 503 + Retry-After in time, not after nginx's read
 * timeout has already answered 504 for it. Set from preHandler, after the body is read: a context entered
 * earlier would not survive the body's stream events. It binds nothing once the response is done or the
 * client went away. 0: no deadline.
 */
export function installRequestDeadline(app: FastifyInstance, ms: number): void {
  if (ms === 0) return;
  app.addHook('preHandler', (req, reply, done) => {
    if (req.routeOptions.config?.longLived) return done();
    const deadline = requestDeadline(ms - reply.elapsedTime);
    reply.raw.once('close', () => {
      deadline.open = false;
    });
    withRequestDeadline(deadline, done);
  });
}
