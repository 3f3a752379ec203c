import { isSpanContextValid } from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';

const POLLED = new Set(['/healthz', '/readyz']);

/**
 * One JSON access line per request, after the response: method, route, status, duration, and the
 * request's trace ids (`reqId` comes with the request's logger). Health polls go at debug.
 */
export function installAccessLog(app: FastifyInstance): void {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url;
    const sc = req.spanContext;
    const line = {
      method: req.method,
      url: req.url,
      route,
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 10) / 10,
      ...(sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {}),
    };
    if (route !== undefined && POLLED.has(route)) req.log.debug(line, 'request completed');
    else req.log.info(line, 'request completed');
    done();
  });
}
