export {
  type AdminServer,
  type HealthReport,
  READINESS_CHECK_TIMEOUT_MS,
  type ReadinessCheck,
  readinessStatus,
  runChecks,
  startAdminServer,
} from './admin-server.js';
export { jobMetrics } from './job-metrics.js';
export { createLogger, type Logger } from './logger.js';
export { createMetrics } from './metrics.js';
export { mqMetrics } from './mq-metrics.js';
export { perRegistry } from './per-registry.js';
export { serviceMetrics } from './service-metrics.js';
export { activeTraceId, inSpan, SpanKind } from './spans.js';
export { createTracing, type Tracing } from './tracing.js';
