import {
  context,
  isSpanContextValid,
  propagation,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { FastifyInstance } from 'fastify';
import type { ServiceContext } from '../internal/svc/index.js';

/**
 * One server span per request, continuing an incoming `traceparent` (or Jaeger's `uber-trace-id`). The rest of the request runs in
 * the span's context, so the events it publishes carry the same trace into RocketMQ. `x-trace-id` is the
 * request's real trace id, or absent when there is none (tracing off and no incoming trace): never zeros.
 * With tracing off and no incoming trace there is nothing to record or propagate, so no span is made.
 */
declare module 'fastify' {
  interface FastifyRequest {
    /** The request's span context, when it has one (for the access log, written after the response). */
    spanContext?: SpanContext;
  }
}

export function installTracing(app: FastifyInstance, ctx: ServiceContext): void {
  const spans = new WeakMap<object, Span>();
  // Whether this process records spans (a probe span, never ended, so never exported).
  const recording = ctx.config.tracing.enabled || ctx.tracer.startSpan('probe').isRecording();
  app.addHook('onRequest', (req, reply, done) => {
    if (!recording && req.headers.traceparent === undefined && req.headers['uber-trace-id'] === undefined)
      return done();
    const parent = propagation.extract(context.active(), req.headers);
    const span = ctx.tracer.startSpan(
      `HTTP ${req.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.url.split('?')[0] ?? '' },
      },
      parent,
    );
    spans.set(req, span);
    req.spanContext = span.spanContext();
    if (isSpanContextValid(span.spanContext())) reply.header('x-trace-id', span.spanContext().traceId);
    context.with(trace.setSpan(parent, span), done);
  });
  app.addHook('onResponse', (req, reply, done) => {
    const span = spans.get(req);
    if (span) {
      span.updateName(`${req.method} ${req.routeOptions.url ?? 'unmatched'}`);
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
}
