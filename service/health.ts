import { type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../pkg/gen/grpc/health/v1/health.js';

/** grpc.health.v1.Health: '' is the whole server; each service name has its own status. */
export function createHealth(services: string[]) {
  const statuses = new Map<string, ServingStatus>([['', ServingStatus.SERVING]]);
  for (const s of services) statuses.set(s, ServingStatus.SERVING);
  const watchers = new Set<{ service: string; call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse> }>();

  const impl: HealthServer = {
    check(call, callback) {
      const s = statuses.get(call.request.service);
      if (s === undefined)
        return callback({ code: status.NOT_FOUND, details: `unknown service ${call.request.service}` });
      callback(null, { status: s });
    },
    watch(call) {
      const entry = { service: call.request.service, call };
      watchers.add(entry);
      call.write({ status: statuses.get(entry.service) ?? ServingStatus.SERVICE_UNKNOWN });
      call.on('cancelled', () => watchers.delete(entry));
    },
  };

  return {
    impl,
    /** On shutdown every service reports NOT_SERVING so clients move away before the port closes. */
    setAll(next: ServingStatus) {
      for (const key of statuses.keys()) statuses.set(key, next);
      for (const w of watchers) w.call.write({ status: statuses.get(w.service) ?? ServingStatus.SERVICE_UNKNOWN });
    },
    endWatches() {
      for (const w of watchers) w.call.end();
      watchers.clear();
    },
  };
}

export { ServingStatus };
