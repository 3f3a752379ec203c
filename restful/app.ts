import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { rejectInvalidText } from '../internal/errorx/index.js';
import { ticketSender } from '../internal/flashsale/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { serviceMetrics } from '../internal/telemetry/index.js';
import { installAccessLog } from './access-log.js';
import { installErrorHandler, urlErrorHandler } from './errors.js';
import { installOpenApi } from './openapi.js';
import { orderWatchRoutes } from './order-watch.js';
import { installProtection } from './protection.js';
import { installRequestDeadline } from './request-deadline.js';
import { lazyChildLogger } from './request-logger.js';
import { adminRoutes } from './routes/admin.js';
import { afterSaleRoutes } from './routes/after-sales.js';
import { flashSaleRoutes } from './routes/flash-sales.js';
import { healthRoutes } from './routes/health.js';
import { orderRoutes } from './routes/orders.js';
import { sandboxRoutes } from './routes/sandbox.js';
import { webhookRoutes } from './routes/webhooks.js';
import { installTracing } from './tracing.js';

export interface AppState {
  /** Set on SIGTERM: /readyz answers 503 so the load balancer stops routing here. */
  draining: boolean;
}

/**
 * http.trustProxy in the form Fastify's types take: a hop count becomes the function proxy-addr makes of
 * one (trust the nearest n hops).
 */
function fastifyTrustProxy(t: ServiceContext['config']['http']['trustProxy']) {
  return typeof t === 'number' ? (_addr: string, hop: number) => hop < t : t;
}

/** Builds the HTTP app without listening (tests call app.inject or listen on port 0). */
export async function buildApp(ctx: ServiceContext, state: AppState = { draining: false }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: 'http' }) as FastifyBaseLogger,
    bodyLimit: ctx.config.http.bodyLimitBytes,
    trustProxy: fastifyTrustProxy(ctx.config.http.trustProxy),
    // A caller's x-request-id is kept when it is a sane token (at most 128 characters); anything else
    // is replaced, never echoed.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    // Draining answers requests on open connections and closes each after its answer (below), instead of
    // 503s that a proxy would count as this instance failing (deploy/nginx/qianfan-order.conf).
    return503OnClosing: false,
    // One access line per request instead (restful/access-log.ts), written with the request's trace ids.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    frameworkErrors: urlErrorHandler,
  });
  // Callback-style hooks on every request: no promise per request.
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    if (state.draining) reply.header('connection', 'close');
    done();
  });
  const red = serviceMetrics(ctx.metrics).http;
  app.addHook('onResponse', (req, reply, done) => {
    red.observe(
      { route: req.routeOptions.url ?? 'unmatched', method: req.method, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  installTracing(app, ctx);
  installAccessLog(app);
  installErrorHandler(app);
  installProtection(app, ctx);
  installRequestDeadline(app, ctx.config.http.requestDeadlineMs);
  // An empty body sent as application/json counts as no body (curl -H 'content-type: ...' without -d).
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '') return done(null, undefined);
    json(req, body as string, (err, parsed) => {
      if (err) return done(err, undefined);
      // Decoded UTF-8 never holds a lone surrogate; only a JSON \u escape can make one.
      if (!(body as string).includes('\\u')) return done(null, parsed);
      try {
        rejectInvalidText(parsed, 'request body');
      } catch (e) {
        return done(e as Error, undefined);
      }
      done(null, parsed);
    });
  });
  // POST actions whose body is all optional may be sent without one.
  app.addHook('preValidation', (req, _reply, done) => {
    if (req.method === 'POST' && req.body === undefined) req.body = {};
    done();
  });

  await installOpenApi(app);

  healthRoutes(app, ctx, state);
  orderRoutes(app, ctx);
  orderWatchRoutes(app, ctx);
  adminRoutes(app, ctx);
  afterSaleRoutes(app, ctx);
  // Flash-sale tickets are aggregated per sale before they reach the broker; closing the app flushes them.
  const tickets = ticketSender(ctx);
  app.addHook('onClose', () => tickets.close());
  flashSaleRoutes(app, ctx, tickets);
  await webhookRoutes(app, ctx);
  if (ctx.config.payment.sandbox.enabled) sandboxRoutes(app, ctx);
  return app;
}
