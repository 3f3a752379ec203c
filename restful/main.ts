import { runProcess } from '../internal/svc/index.js';
import { buildApp } from './app.js';

// HTTP API process: config -> context -> Fastify -> on SIGTERM stop accepting, finish requests, close.
await runProcess('restful', { mq: true }, async (ctx) => {
  const state = { draining: false };
  const app = await buildApp(ctx, state);
  await app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
  return {
    async drain() {
      state.draining = true;
      await app.close();
    },
  };
});
