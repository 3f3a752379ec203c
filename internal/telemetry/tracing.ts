import { context, propagation, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { JaegerPropagator } from './jaeger-propagator.js';

export interface Tracing {
  tracer: Tracer;
  /** Spans are recorded and exported (tracing.enabled, or a test's exporter). */
  recording: boolean;
  shutdown(): Promise<void>;
}

/**
 * OpenTelemetry tracing exported over OTLP/HTTP (Jaeger accepts OTLP natively). When disabled the
 * API's no-op tracer is used, so instrumented code costs nearly nothing. Tests pass their own exporter.
 */
export function createTracing(opts: {
  service: string;
  process: string;
  enabled: boolean;
  otlpEndpoint: string;
  sampleRatio: number;
  exporter?: SpanExporter;
}): Tracing {
  // Context and propagation are always on, so an upstream traceparent reaches our messages and calls
  // even when this process records nothing. Jaeger's uber-trace-id is read too (W3C wins when a request
  // carries both), and both are written on what we send.
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new JaegerPropagator(), new W3CTraceContextPropagator()] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  if (!opts.enabled && !opts.exporter) {
    return { tracer: trace.getTracer(opts.service), recording: false, shutdown: async () => {} };
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      'service.name': opts.service,
      'service.namespace': 'qianfan',
      'qianfan.process': opts.process,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.sampleRatio) }),
    // A test's in-memory exporter sees spans at once; the OTLP exporter gets batches.
    spanProcessors: [
      opts.exporter
        ? new SimpleSpanProcessor({ exporter: opts.exporter })
        : new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: opts.otlpEndpoint }) }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer(opts.service),
    recording: true,
    shutdown: () => provider.shutdown(),
  };
}
