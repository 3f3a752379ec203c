import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from '../telemetry/index.js';

export interface Registration {
  /** The instance's current key, `<prefix><service>/<lease id>` (a new lease after a re-registration). */
  readonly key: string;
  /** Removes the key at once (lease revoke) so callers stop picking this instance before it exits. */
  close(): Promise<void>;
}

/**
 * The key under which a service's instances are listed, each as `<service key>/<lease id>` with the
 * plain `host:port` as value: the layout go-zero's discov uses, so a go-zero zrpc client configured with
 * `Etcd: { Hosts: [...], Key: <service key> }` finds these instances, and pkg/client reads the same.
 */
export const serviceKey = (prefix: string, service: string) => `${prefix}${service}`;

const RETRY_MAX_MS = 10_000;

/**
 * Lists this instance in etcd under a lease kept alive by the client. If the lease is lost (etcd
 * restarted or unreachable past the TTL) a new lease is taken and the instance listed again, retrying
 * with backoff until etcd answers.
 */
export async function registerInstance(
  etcd: Etcd3,
  opts: { prefix: string; service: string; address: string; version: string; ttlSeconds: number; logger: Logger },
): Promise<Registration> {
  const base = serviceKey(opts.prefix, opts.service);
  let closed = false;
  let lease: Lease | undefined;
  let key = '';

  const grant = async (): Promise<void> => {
    const next = etcd.lease(opts.ttlSeconds, { autoKeepAlive: true });
    try {
      const id = await next.grant();
      const nextKey = `${base}/${id}`;
      await next.put(nextKey).value(opts.address);
      next.on('lost', (err) => {
        if (closed || lease !== next) return;
        opts.logger.warn({ err, key: nextKey }, 'etcd lease lost; registering again');
        void again();
      });
      lease = next;
      key = nextKey;
    } catch (err) {
      await next.revoke().catch(() => {});
      throw err;
    }
  };

  const again = async () => {
    for (let attempt = 1; !closed; attempt++) {
      await new Promise((r) => setTimeout(r, Math.min(RETRY_MAX_MS, 500 * 2 ** attempt)));
      if (closed) return;
      try {
        await grant();
        opts.logger.info({ key, attempt }, 'registered in etcd again');
        return;
      } catch (err) {
        opts.logger.warn({ err, attempt }, 'etcd re-registration failed; retrying');
      }
    }
  };

  await grant();
  opts.logger.info(
    { key, address: opts.address, version: opts.version, ttlSeconds: opts.ttlSeconds },
    'registered in etcd',
  );

  return {
    get key() {
      return key;
    },
    async close() {
      closed = true;
      await lease
        ?.revoke()
        .catch((err) => opts.logger.warn({ err, key }, 'etcd lease revoke failed; the key expires with its TTL'));
    },
  };
}
