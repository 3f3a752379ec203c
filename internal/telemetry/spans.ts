import { context, propagation, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';

export { SpanKind };

/**
 * Runs `fn` inside a new active span, optionally continuing the trace found in `carrier` (HTTP headers,
 * gRPC metadata, a message envelope's trace). Records an exception and the error status when it throws.
 */
export async function inSpan<T>(
  tracer: Tracer,
  name: string,
  opts: { kind?: SpanKind; carrier?: Record<string, unknown>; attributes?: Record<string, string | number | boolean> },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = opts.carrier ? propagation.extract(context.active(), opts.carrier) : context.active();
  return tracer.startActiveSpan(
    name,
    { kind: opts.kind ?? SpanKind.INTERNAL, attributes: opts.attributes },
    parent,
    async (span) => {
      try {
        return await fn(span);
      } catch (err) {
        span.recordException(err as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The trace id of the active span, for log lines ('' when there is none). */
export function activeTraceId(): string {
  return trace.getSpan(context.active())?.spanContext().traceId ?? '';
}
