import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { ServiceContext } from '../internal/svc/index.js';
import { HealthService } from '../pkg/gen/grpc/health/v1/health.js';
import { OrderServiceService } from '../pkg/gen/qianfan/order/v1/order.js';
import { createHealth } from './health.js';
import { orderService } from './order-service.js';
import { watchHub } from './watch-order.js';

export const ORDER_SERVICE = 'qianfan.order.v1.OrderService';

/** Builds the gRPC server with its services; `listen` binds it and returns the bound port. */
export function buildServer(ctx: ServiceContext) {
  const server = new Server({
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
  });
  const health = createHealth([ORDER_SERVICE]);
  server.addService(HealthService, health.impl);
  const watches = watchHub(ctx);
  server.addService(OrderServiceService, orderService(ctx, watches));
  // Server reflection (grpcurl, Postman) from the same .proto files the clients are generated from.
  const protoRoot = fileURLToPath(new URL('../pkg/proto', import.meta.url));
  const definitions = loadSync(['qianfan/order/v1/order.proto', 'grpc/health/v1/health.proto'], {
    includeDirs: [protoRoot],
  });
  new ReflectionService(definitions).addToServer(server);

  /** Binds host:port (more than once for more ports); TLS as grpc.tls says unless credentials are given. */
  const listen = (host: string, port: number, credentials = serverCredentials(ctx.config.grpc.tls)) =>
    new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host}:${port}`, credentials, (err, bound) => (err ? reject(err) : resolve(bound)));
    });

  /** Graceful: refuse new calls, let running ones finish within `ms`, then cut the rest. */
  const shutdown = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        void watches.stop();
        resolve();
      }, ms);
      health.endWatches();
      // Order streams never end by themselves: each is ended UNAVAILABLE so its client resumes elsewhere.
      watches.closeAll();
      server.tryShutdown(() => {
        clearTimeout(timer);
        void watches.stop();
        resolve();
      });
    });

  return { server, health, listen, shutdown };
}

/**
 * TLS from grpc.tls (PEM files, read once at start: a missing or unreadable file stops the process),
 * mTLS when requireClientCert; plaintext when no certificate is configured (dev and test, or
 * grpc.allowPlaintext behind a mesh).
 */
export function serverCredentials(tls: ServiceContext['config']['grpc']['tls']): ServerCredentials {
  if (!tls.certFile) return ServerCredentials.createInsecure();
  const read = (key: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`grpc.tls.${key}: cannot read ${file} (${(err as Error).message})`);
    }
  };
  return ServerCredentials.createSsl(
    tls.caFile ? read('caFile', tls.caFile) : null,
    [{ cert_chain: read('certFile', tls.certFile), private_key: read('keyFile', tls.keyFile) }],
    tls.requireClientCert,
  );
}
