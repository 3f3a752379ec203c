import { createLogger } from '../../internal/telemetry/index.js';

/** A logger for tests: warnings and errors only, so failures stay readable. */
export const testLogger = createLogger({
  service: 'qianfan-order',
  process: 'script',
  level: process.env.TEST_LOG_LEVEL ?? 'warn',
});
