import {
  type Context,
  isSpanContextValid,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

const HEADER = 'uber-trace-id';

/**
 * Jaeger's `uber-trace-id: <trace id>:<span id>:<parent span id, unused>:<flags>` header, for callers
 * instrumented with Jaeger clients (and Aliyun ARMS agents that still send it). Ids are hex, possibly
 * shorter than W3C's (zero-padded here); flag bit 1 = sampled. Baggage (`uberctx-*`) is not read.
 */
export class JaegerPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (!sc || !isSpanContextValid(sc)) return;
    const sampled = (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '1' : '0';
    setter.set(carrier, HEADER, `${sc.traceId}:${sc.spanId}:0:${sampled}`);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const raw = getter.get(carrier, HEADER);
    const value = decodeURIComponent(Array.isArray(raw) ? (raw[0] ?? '') : (raw ?? ''));
    const m = /^([0-9a-f]{1,32}):([0-9a-f]{1,16}):[0-9a-f]{1,16}:([0-9a-f]{1,2})$/i.exec(value);
    if (!m) return ctx;
    const sc = {
      traceId: m[1]!.toLowerCase().padStart(32, '0'),
      spanId: m[2]!.toLowerCase().padStart(16, '0'),
      traceFlags: Number.parseInt(m[3]!, 16) & 1 ? TraceFlags.SAMPLED : TraceFlags.NONE,
      isRemote: true,
    };
    return isSpanContextValid(sc) ? trace.setSpanContext(ctx, sc) : ctx;
  }

  fields(): string[] {
    return [HEADER];
  }
}
