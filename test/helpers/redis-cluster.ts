import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The local cluster of deploy/local/redis-cluster.sh: 3 masters and 3 replicas, cluster-node-timeout 3 s.
// QIANFAN_REDIS__CLUSTER_NODES names its masters (the script's `nodes` prints it).
const SEEDS = process.env.QIANFAN_REDIS__CLUSTER_NODES ?? '';
const RUN_DIR = process.env.QIANFAN_RUN_DIR ?? '/dev/shm/qianfan-order';
const SCRIPT = 'deploy/local/redis-cluster.sh';

export interface ClusterNode {
  port: number;
  id: string;
  master: boolean;
  masterId: string;
  slots: string[];
}

export const clusterCli = (port: number, ...args: string[]) =>
  execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim();

/** The cluster's view from the first node that answers (a killed or stalled node does not). */
export function clusterNodes(): ClusterNode[] {
  let text = '';
  const masters = SEEDS.split(',').map((s) => Number(s.split(':')[1]));
  for (const port of [...masters, ...masters.map((p) => p + 3)]) {
    try {
      text = execFileSync('redis-cli', ['-p', String(port), 'cluster', 'nodes'], {
        encoding: 'utf8',
        timeout: 2000,
      }).trim();
      break;
    } catch {
      // that node is down; ask the next
    }
  }
  return text
    .split('\n')
    .filter((l) => !l.includes('fail') && !l.includes('noaddr'))
    .map((l) => {
      const [id, addr, flags, masterId, , , , , ...slots] = l.split(' ');
      return {
        id: id!,
        port: Number(addr!.split('@')[0]!.split(':')[1]),
        master: flags!.includes('master'),
        masterId: masterId!,
        slots,
      };
    });
}

/** The master serving a key's slot (the key with its prefix), and its replica. */
export function servingOf(key: string): { master: ClusterNode; replica: ClusterNode } {
  const all = clusterNodes();
  const slot = Number(clusterCli(all[0]!.port, 'cluster', 'keyslot', key));
  const master = all.find(
    (n) =>
      n.master &&
      n.slots.some((r) => {
        const [a, b] = r.split('-').map(Number);
        return slot >= a! && slot <= (b ?? a!);
      }),
  );
  assert.ok(master, `no master serves slot ${slot}`);
  const replica = all.find((n) => !n.master && n.masterId === master.id);
  assert.ok(replica, `master ${master.port} has no replica`);
  return { master, replica };
}

export const masterPid = (port: number) => Number(readFileSync(`${RUN_DIR}/redis-cluster-${port}.pid`, 'utf8'));

/** A killed node started again: it rejoins as a replica of whoever took over its slots. */
export const restartClusterNode = (port: number) =>
  execFileSync('bash', [SCRIPT, 'restart-node', String(port)], { stdio: 'ignore' });
