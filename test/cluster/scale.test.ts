import { execFileSync } from 'node:child_process';
import { OrderClient } from '../../pkg/index.js';
import { grpcClient } from '../chaos/driver.js';
import { CHAOS_DB, chaosEnv, type Processes, type ProcName, type ProcSpec } from '../chaos/stack.js';
import { chaosSuite } from '../chaos/suite.js';
import { testConfig } from '../helpers/config.js';
import { startNginx } from '../helpers/nginx.js';
import { clusterCli, clusterNodes, masterPid, restartClusterNode, servingOf } from '../helpers/redis-cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';

/**
 * The chaos suite with two of every process on the Redis Cluster (deploy/local/redis-cluster.sh; run by
 * test.sh's cluster phase): two restful behind a real nginx, two service found through etcd by pkg's
 * OrderClient (p2c), two consumer, two job. Besides the chaos faults, one replica of each kind is stalled
 * (SIGSTOP), and the Redis faults hit the master serving the flash sale. Each job tick must run once
 * across both job processes.
 */
const PREFIX = 'qf:order:scale:';
const ETCD_PREFIX = '/qianfan-scale/services/';
const scaleEnv: NodeJS.ProcessEnv = {
  ...chaosEnv,
  QIANFAN_REDIS__KEY_PREFIX: PREFIX,
  QIANFAN_ETCD__PREFIX: ETCD_PREFIX,
};
const NGINX_PORT = 18888;
const HTTP = [18891, 18892];

function replica(kind: ProcName, n: 1 | 2): ProcSpec {
  const admin = { restful: 19100, service: 19101, consumer: 19102, job: 19103 }[kind] + (n - 1) * 10;
  const env: NodeJS.ProcessEnv = {
    ...scaleEnv,
    QIANFAN_SERVICE__INSTANCE: String(40 + n),
    QIANFAN_ADMIN__RESTFUL_PORT: String(19100 + (n - 1) * 10),
    QIANFAN_ADMIN__SERVICE_PORT: String(19101 + (n - 1) * 10),
    QIANFAN_ADMIN__CONSUMER_PORT: String(19102 + (n - 1) * 10),
    QIANFAN_ADMIN__JOB_PORT: String(19103 + (n - 1) * 10),
    QIANFAN_HTTP__PORT: String(HTTP[n - 1]),
    QIANFAN_GRPC__PORT: String(19000 + (n - 1) * 10),
    // The job processes log every run with its tick, so the suite can check each tick ran once.
    ...(kind === 'job' ? { QIANFAN_LOG__LEVEL: 'debug' } : {}),
  };
  return { kind, env, adminPort: admin };
}

const KINDS: ProcName[] = ['restful', 'service', 'consumer', 'job'];
const specs: Record<string, ProcSpec> = Object.fromEntries(
  KINDS.flatMap((k) => [1, 2].map((n) => [`${k}#${n}`, replica(k, n as 1 | 2)])),
);

/** The master serving this run's flash sale (the newest sale in the chaos database). */
function saleMaster() {
  const saleId = execFileSync(
    'mysql',
    ['-h', '127.0.0.1', '-u', 'root', '-N', '-e', `SELECT MAX(id) FROM ${CHAOS_DB}.flash_sales`],
    {
      encoding: 'utf8',
    },
  ).trim();
  return servingOf(`${PREFIX}fs:{${saleId}}:stock`);
}

const clusterOk = () => {
  try {
    return clusterNodes().every((n) => clusterCli(n.port, 'cluster', 'info').includes('cluster_state:ok'));
  } catch {
    return false;
  }
};

/** Every `job finished` line of both job processes: each (job, tick) must appear once. */
function jobsRanOncePerTick(procs: Processes) {
  const runs = new Map<string, string[]>();
  const perProcess: Record<string, number> = {};
  let skippedAsRun = 0;
  for (const name of ['job#1', 'job#2']) {
    perProcess[name] = 0;
    for (const line of procs.allOutput(name).split('\n')) {
      if (!line.startsWith('{')) continue;
      let l: { msg?: string; job?: string; tick?: number; reason?: string };
      try {
        l = JSON.parse(line);
      } catch {
        continue;
      }
      if (l.msg === 'job skipped' && l.reason?.includes('tick already ran')) skippedAsRun++;
      if (l.msg !== 'job finished' || l.tick === undefined) continue;
      const k = `${l.job}@${l.tick}`;
      runs.set(k, [...(runs.get(k) ?? []), name]);
      perProcess[name]++;
    }
  }
  const twice = [...runs].filter(([, by]) => by.length > 1).map(([k, by]) => `${k} ran on ${by.join(' and ')}`);
  const closeTicks = [...runs.keys()].filter((k) => k.startsWith('close-expired-orders@')).length;
  const violations = [...twice];
  if (closeTicks < 10) violations.push(`close-expired-orders ran on only ${closeTicks} ticks`);
  if (perProcess['job#1'] === 0 || perProcess['job#2'] === 0)
    violations.push(`a job process never ran a job: ${JSON.stringify(perProcess)}`);
  return {
    violations,
    report: [
      `job ticks run: ${runs.size} (${JSON.stringify(perProcess)}), close-expired-orders ticks ${closeTicks}, ticks skipped as already run elsewhere ${skippedAsRun}`,
    ],
  };
}

let nginx: { stop(): void } | undefined;

chaosSuite({
  title:
    'scale: two of every process (restful behind nginx, service via pkg p2c, consumer, job) on the Redis Cluster, under the chaos faults',
  specs,
  env: scaleEnv,
  processStalls: ['restful#2', 'service#2', 'consumer#2', 'job#2'],
  redis: {
    start: async () => {
      if (!process.env.QIANFAN_REDIS__CLUSTER_NODES)
        throw new Error('set QIANFAN_REDIS__CLUSTER_NODES (bash deploy/local/redis-cluster.sh up prints it)');
      await waitFor('the Redis Cluster ok', 60_000, clusterOk);
    },
    restart: async () => {
      const { master, replica: r } = saleMaster();
      process.kill(masterPid(master.port), 'SIGKILL');
      await waitFor(
        'the replica promoted',
        30_000,
        () => clusterNodes().find((n) => n.port === r.port)?.master === true,
      );
      restartClusterNode(master.port);
      await waitFor('the Redis Cluster ok', 60_000, clusterOk);
      return `redis master ${master.port} killed; replica ${r.port} promoted; ${master.port} rejoined`;
    },
    stall: async (ms, during) => {
      const { master } = saleMaster();
      const pid = masterPid(master.port);
      const end = Date.now() + ms;
      process.kill(pid, 'SIGSTOP');
      try {
        await during();
        await sleep(Math.max(0, end - Date.now()));
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await waitFor('the Redis Cluster ok', 60_000, clusterOk);
      return `redis master ${master.port}`;
    },
    stop: async () => undefined,
  },
  setUp: async () => {
    nginx = await startNginx([HTTP[0]!, HTTP[1]!], NGINX_PORT);
  },
  tearDown: async () => nginx?.stop(),
  grpc: async (token) => {
    const config = testConfig(scaleEnv);
    const client = await OrderClient.connect({
      etcdHosts: config.etcd.endpoints,
      prefix: ETCD_PREFIX,
      serviceToken: token,
    });
    await waitFor('both service instances in etcd', 30_000, () => client.instances().length === 2);
    return grpcClient(token, client);
  },
  check: jobsRanOncePerTick,
});
