import { registerInstance } from '../internal/discovery/index.js';
import { runProcess } from '../internal/svc/index.js';
import { startAdminServer } from '../internal/telemetry/index.js';
import { ServingStatus } from './health.js';
import { buildServer, ORDER_SERVICE } from './server.js';

// gRPC process: serve, then list this instance in etcd; on SIGTERM leave etcd first, then drain.
await runProcess('service', { mq: true, etcd: true }, async (ctx) => {
  const { grpc, admin, etcd } = ctx.config;
  const rpc = buildServer(ctx);
  const port = await rpc.listen(grpc.host, grpc.port);
  const adminServer = await startAdminServer({
    host: admin.host,
    port: admin.servicePort,
    metrics: ctx.metrics,
    checks: ctx.checks,
    degradable: ctx.degradable,
    logger: ctx.logger,
  });
  const registration = await registerInstance(ctx.etcd!, {
    prefix: etcd.prefix,
    service: ORDER_SERVICE,
    address: `${grpc.advertiseHost}:${port}`,
    version: process.env.npm_package_version ?? '0.0.0',
    ttlSeconds: etcd.leaseTtlSeconds,
    logger: ctx.logger,
  });
  const tls = grpc.tls.certFile ? (grpc.tls.requireClientCert ? 'mtls' : 'tls') : 'plaintext';
  ctx.logger.info({ port, tls }, 'gRPC server listening');
  return {
    async drain() {
      adminServer.markDraining();
      rpc.health.setAll(ServingStatus.NOT_SERVING);
      await registration.close();
      await rpc.shutdown(Math.max(100, ctx.config.shutdown.drainTimeoutMs - 2000));
      await adminServer.close();
    },
  };
});
