import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../telemetry/index.js';

export interface Instance {
  address: string;
  service: string;
  version: string;
  registeredAt: string;
}

export interface Registration {
  key: string;
  /** Removes the key at once (lease revoke) so callers stop picking this instance before it exits. */
  close(): Promise<void>;
}

/** Key under which an instance is listed: <prefix><service>/<address>. pkg/client watches <prefix><service>/. */
export const instanceKey = (prefix: string, service: string, address: string) => `${prefix}${service}/${address}`;

/**
 * Lists this instance in etcd under a lease kept alive by the client; if the lease is lost (etcd
 * restarted, network partition) a new one is taken and the key written again.
 */
export async function registerInstance(
  etcd: Etcd3,
  opts: { prefix: string; service: string; address: string; version: string; ttlSeconds: number; logger: Logger },
): Promise<Registration> {
  const key = instanceKey(opts.prefix, opts.service, opts.address);
  const value: Instance = {
    address: opts.address,
    service: opts.service,
    version: opts.version,
    registeredAt: new Date().toISOString(),
  };
  let closed = false;
  let lease: Lease;

  const grant = async (): Promise<void> => {
    lease = etcd.lease(opts.ttlSeconds, { autoKeepAlive: true });
    lease.on('lost', (err) => {
      if (closed) return;
      opts.logger.warn({ err, key }, 'etcd lease lost; registering again');
      setTimeout(
        () => void grant().catch((e) => opts.logger.error({ err: e, key }, 'etcd re-registration failed')),
        1000,
      );
    });
    await lease.put(key).value(JSON.stringify(value));
  };
  await grant();
  opts.logger.info({ key, ttlSeconds: opts.ttlSeconds }, 'registered in etcd');

  return {
    key,
    async close() {
      closed = true;
      await lease
        .revoke()
        .catch((err) => opts.logger.warn({ err, key }, 'etcd lease revoke failed; the key expires with its TTL'));
    },
  };
}
