import { Etcd3 } from 'etcd3';
import type { Config } from '../config/index.js';

/** etcd client; checks the cluster answers so a missing etcd fails at start-up, clearly. */
export async function openEtcd(cfg: Config['etcd']): Promise<Etcd3> {
  const etcd = new Etcd3({ hosts: cfg.endpoints, dialTimeout: 3000 });
  try {
    await etcd.maintenance.status();
  } catch (err) {
    etcd.close();
    throw new Error(
      `cannot reach etcd at ${cfg.endpoints.join(',')}: ${(err as Error).message} (is it running? run deploy/etcd/etcd.sh start, or fix etcd.endpoints)`,
      { cause: err },
    );
  }
  return etcd;
}
