import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceContext } from '../internal/svc/index.js';
import { HealthService } from '../pkg/gen/grpc/health/v1/health.js';
import { createHealth } from './health.js';

export const ORDER_SERVICE = 'qianfan.order.v1.OrderService';

/** Builds the gRPC server with its services; `listen` binds it and returns the bound port. */
export function buildServer(_ctx: ServiceContext) {
  const server = new Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  const health = createHealth([ORDER_SERVICE]);
  server.addService(HealthService, health.impl);

  const listen = (host: string, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      );
    });

  /** Graceful: refuse new calls, let running ones finish within `ms`, then cut the rest. */
  const shutdown = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, ms);
      health.endWatches();
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });

  return { server, health, listen, shutdown };
}
