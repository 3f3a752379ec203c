import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';

const RESOLUTION_MS = 10;
const SAMPLE_MS = 1000;
const RETRY_AFTER_SECONDS = 5;

/**
 * Answers 503 OVERLOADED (Retry-After 5) while the event loop lags: the mean delay over the last second
 * above `maxDelayMs`. Measuring starts when the app is ready, after its routes and schemas are compiled:
 * a process that blocked for seconds while starting must not shed the first second of traffic a proxy
 * sends it (test/nginx.test.ts restarts restful under load and counts every failed request).
 */
export function installLoadShedding(app: FastifyInstance, maxDelayMs: number): void {
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  let delayMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const sample = () => {
    delayMs = Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS);
    histogram.reset();
  };
  app.addHook('onReady', (done) => {
    histogram.reset();
    histogram.enable();
    timer = setInterval(sample, SAMPLE_MS).unref();
    done();
  });
  app.addHook('onClose', (_app, done) => {
    clearInterval(timer);
    histogram.disable();
    done();
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (delayMs <= maxDelayMs) return done();
    void reply
      .status(503)
      .header('retry-after', String(RETRY_AFTER_SECONDS))
      .send({
        code: 'OVERLOADED',
        message: `the service is overloaded (event loop delay ${Math.round(delayMs)} ms); retry after ${RETRY_AFTER_SECONDS} s`,
        requestId: String(req.id),
      });
  });
}
