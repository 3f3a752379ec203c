import { runProcess } from '../internal/svc/index.js';
import { startAdminServer } from '../internal/telemetry/index.js';
import { buildApp } from './app.js';

// HTTP API process: config -> context -> Fastify -> on SIGTERM stop accepting, finish requests, close.
// /metrics is served on the admin port (admin.restfulPort), not on the public API port.
await runProcess('restful', { mq: true }, async (ctx) => {
  const state = { draining: false };
  const app = await buildApp(ctx, state);
  await app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
  const admin = await startAdminServer({
    host: ctx.config.admin.host,
    port: ctx.config.admin.restfulPort,
    metrics: ctx.metrics,
    checks: ctx.checks,
    degradable: ctx.degradable,
    logger: ctx.logger,
  });
  return {
    async drain() {
      state.draining = true;
      admin.markDraining();
      // No new connections; a request arriving on an open one is answered with Connection: close
      // (restful/app.ts), so the proxy moves to another instance; a keep-alive connection that goes idle
      // would hold close() open until its timeout, so idle ones are closed as they appear.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await admin.close();
    },
  };
});
