import { isSpanContextValid } from '@opentelemetry/api';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';

/** pino loggers, and req.log (request-logger.ts), can say whether a level is written. */
type Leveled = { isLevelEnabled(level: string): boolean };

const POLLED = new Set(['/healthz', '/readyz']);

/**
 * One JSON access line per request, after the response: method, route, status, duration, and the
 * request's trace ids (`reqId` comes with the request's logger). Health polls go at debug.
 */
export function installAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    const level = route !== undefined && POLLED.has(route) ? 'debug' : 'info';
    if (!(req.log as FastifyBaseLogger & Leveled).isLevelEnabled(level)) return done();
    const sc = req.spanContext;
    const line = {
      method: req.method,
      url: req.url,
      route,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
      ...(sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {}),
    };
    req.log[level](line, 'request completed');
    done();
  });
}
