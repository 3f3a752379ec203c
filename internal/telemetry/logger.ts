import { isSpanContextValid, trace } from '@opentelemetry/api';
import { type DestinationStream, destination, type Logger, pino } from 'pino';

export type { Logger };

/** Log fields that never leave the process: credentials, signatures, and buyers' personal data. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.jwtSecret',
  '*.webhookSecret',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'signature',
  '*.signature',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-service-token"]',
  'req.headers["x-qf-signature"]',
  'headers.authorization',
  'headers["x-qf-signature"]',
  '*.serviceTokens',
  // Personal data of buyers: a phone number and the street address identify a person.
  'phone',
  '*.phone',
  '*.*.phone',
  'address.detail',
  '*.address.detail',
  '*.*.address.detail',
];

/**
 * JSON lines on stdout (for Filebeat / SLS, deploy/logging); the operator CLI (`script`) logs to stderr
 * instead, so its stdout stays what the command prints (--json). Every line written inside a trace
 * carries its `trace_id` and `span_id` (requests also carry `reqId`); secrets and personal data are
 * redacted wherever they appear in a log object.
 */
export function createLogger(opts: {
  service: string;
  process: string;
  level: string;
  /** Tests capture the lines. */
  stream?: DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      base: { service: opts.service, process: opts.process, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const sc = trace.getActiveSpan()?.spanContext();
        return sc && isSpanContextValid(sc) ? { trace_id: sc.traceId, span_id: sc.spanId } : {};
      },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    opts.stream ?? (opts.process === 'script' ? destination(2) : undefined),
  );
}
