import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { loadConfig } from '../internal/config/index.js';
import { runMigrations } from '../internal/model/index.js';
import { createServiceContext } from '../internal/svc/index.js';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  status2xx: number;
  non2xx: number;
  errors: number;
  connections: number;
  seconds: number;
}

/** autocannon against one URL; `setup` may change each request (headers, body). */
export async function load(opts: {
  url: string;
  method?: 'GET' | 'POST';
  connections?: number;
  seconds?: number;
  /** Send exactly this many requests instead of running for `seconds`. */
  amount?: number;
  headers?: Record<string, string>;
  body?: string;
  setup?: (req: { headers: Record<string, string>; body?: string }) => {
    headers: Record<string, string>;
    body?: string;
    path?: string;
  };
}): Promise<LoadResult> {
  const connections = opts.connections ?? 64;
  const seconds = opts.seconds ?? 10;
  const r = await autocannon({
    url: opts.url,
    connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: seconds }),
    requests: [
      {
        method: opts.method ?? 'GET',
        headers: opts.headers ?? {},
        body: opts.body,
        ...(opts.setup
          ? {
              setupRequest: (req: { headers: Record<string, string>; body?: string }) => ({
                ...req,
                ...opts.setup!(req),
              }),
            }
          : {}),
      },
    ],
  } as autocannon.Options);
  return {
    rps: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: r.requests.total,
    status2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    connections,
    seconds: opts.amount ? r.duration : seconds,
  };
}

// Never leave a process behind when the bench ends or fails.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * Starts a process and waits until `ready()` answers true. A `dist/...js` file runs as production runs
 * it (compiled JavaScript, `npm run build`); a `.ts` file runs through tsx.
 */
export async function startProcess(
  file: string,
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  args: string[] = [],
) {
  const loader = file.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child: ChildProcess = spawn(process.execPath, [...loader, file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}`);
    if (await ready().catch(() => false)) break;
    if (Date.now() > deadline) throw new Error(`${file} was not ready in 60 s`);
    await sleep(200);
  }
  return {
    child,
    /** Resident set size now, in MiB (Linux /proc). */
    rssMiB: () => rssMiB(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
    /** kill -9, as a crash would. */
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export const httpOk = (url: string) => async () => (await fetch(url)).ok;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function machine() {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** Writes bench/results/<name>-<date>T<HHMM UTC>[-<n>].json (never over an earlier run) and returns its path. */
export function saveResult(name: string, data: unknown): string {
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const now = new Date().toISOString();
  const stem = path.join(dir, `${name}-${now.slice(0, 10)}T${now.slice(11, 13)}${now.slice(14, 16)}`);
  let file = `${stem}.json`;
  for (let n = 2; existsSync(file); n++) file = `${stem}-${n}.json`;
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

export const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system) a process has used so far, in ms (Linux /proc/<pid>/stat; 10 ms steps). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** The pids of the shared infrastructure on this machine, where found: MariaDB, Redis, the broker's JVM. */
export function infraPids(): Record<string, number> {
  const pids: Record<string, number> = {};
  const first = (args: string[]) => {
    try {
      return Number(execFileSync('pgrep', args, { encoding: 'utf8' }).trim().split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  const mysqld = first(['-o', '-x', 'mariadbd']) ?? first(['-o', '-x', 'mysqld']);
  if (mysqld) pids.mariadb = mysqld;
  try {
    const info = execFileSync('redis-cli', ['-p', '6379', 'info', 'server'], { encoding: 'utf8' });
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    if (pid) pids.redis = pid;
  } catch {
    // no redis-cli or no Redis on 6379: not measured
  }
  // The broker and its gRPC proxy run in one JVM (deploy/rocketmq/rocketmq.sh writes its pid).
  try {
    const broker = Number(
      readFileSync(`${process.env.QIANFAN_RUN_DIR ?? '/dev/shm/qianfan-order'}/broker.pid`, 'utf8'),
    );
    if (broker) pids.broker = broker;
  } catch {
    // not started by the project's script: not measured
  }
  return pids;
}

/**
 * CPU µs per request of each named process over a measured run: `start()` before, then the returned
 * function with the number of requests the run completed.
 */
export function cpuMeter(pids: Record<string, number>) {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  return (requests: number): Record<string, number> =>
    Object.fromEntries(
      Object.entries(pids).map(([k, pid]) => [
        k,
        requests > 0 ? Math.round(((cpuMs(pid) - before[k]!) * 1000) / requests) : 0,
      ]),
    );
}

export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Samples a process's RSS every 250 ms until stopped; returns the highest value (MiB). */
export function rssPeak(pid: number) {
  // A process that has exited has no /proc entry: its last sample stands.
  const sample = () => {
    try {
      return rssMiB(pid);
    } catch {
      return 0;
    }
  };
  let peak = sample();
  const timer = setInterval(() => {
    peak = Math.max(peak, sample());
  }, 100);
  return () => {
    clearInterval(timer);
    return Math.max(peak, sample());
  };
}

/** Latency percentiles (ms) of a sample. */
export function percentiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

/** `concurrency` async callers in a loop for `seconds`: rate and latency of `op`. */
export async function closedLoop(concurrency: number, seconds: number, op: (i: number) => Promise<unknown>) {
  const until = Date.now() + seconds * 1000;
  const lat: number[] = [];
  let n = 0;
  let errors = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const t = performance.now();
      try {
        await op(n++);
        lat.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (Date.now() - started) / 1000;
  return {
    rps: Math.round(lat.length / elapsed),
    ...percentiles(lat),
    requests: lat.length,
    errors,
    concurrency,
    seconds,
  };
}

/** The environment every benchmark runs the service with: its own database, Redis prefix and namespace. */
export const benchEnv = {
  QIANFAN_CONFIG: 'config/test.yaml',
  QIANFAN_MYSQL__DATABASE: 'qianfan_order_bench',
  QIANFAN_REDIS__KEY_PREFIX: 'qf:order:bench:',
  // Its own RocketMQ namespace (created by rocketmq.sh): leftovers never reach the test suite's consumers.
  QIANFAN_ROCKETMQ__NAMESPACE: 'qfbench',
  QIANFAN_ETCD__PREFIX: '/qianfan-bench/services/',
  QIANFAN_LOG__LEVEL: 'warn',
  QIANFAN_HTTP__PORT: '28888',
  QIANFAN_GRPC__PORT: '29000',
  QIANFAN_ADMIN__RESTFUL_PORT: '29100',
  QIANFAN_ADMIN__SERVICE_PORT: '29101',
  QIANFAN_ADMIN__CONSUMER_PORT: '29102',
  QIANFAN_ADMIN__JOB_PORT: '29103',
  // Rate limits lifted: the load comes from one address and a few thousand users.
  QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
  QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
  QIANFAN_HTTP__MAX_EVENT_LOOP_DELAY_MS: '60000',
  // Unpaid bench orders time out a day later, not 30 minutes: a run's thousands of payment-deadline
  // messages must not come due while a later run measures its consumer.
  QIANFAN_ORDER__PAYMENT_TIMEOUT_MINUTES: '1440',
  // Production bounds for transaction messages (config/test.yaml shortens them for the check-back tests).
  QIANFAN_ROCKETMQ__LOCAL_TX_MAX_MS: '10000',
  QIANFAN_ROCKETMQ__TX_ROLLBACK_AFTER_MS: '60000',
} satisfies NodeJS.ProcessEnv;

/**
 * Creates the bench database if needed (the service's migrations then run in it); `fresh` drops it first,
 * so a run does not measure what earlier runs left (with MariaDB's default 128 MiB buffer pool, the
 * flash-sale drain cost MariaDB twice the CPU per order with 800,000 earlier orders in the tables).
 */
export async function ensureDatabase(name: string, fresh = false) {
  const mysql = (await import('mysql2/promise')).default;
  const c = await mysql.createConnection({
    host: '127.0.0.1',
    port: 3306,
    user: 'root',
    password: process.env.QIANFAN_MYSQL__PASSWORD ?? '',
  });
  if (fresh) await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
  await c.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await c.end();
}

export function needInfra(err: unknown): never {
  process.stderr.write(
    `the bench needs MariaDB, Redis, etcd and RocketMQ running: start them with \`npm run dev\` or \`bash deploy/local/infra.sh up\`\n(${(err as Error).message})\n`,
  );
  process.exit(2);
}

/** The bench's service context (its own database, migrated), or exit 2 saying what to start. */
export async function openBenchContext(env: NodeJS.ProcessEnv, opts: { freshDatabase?: boolean } = {}) {
  const config = loadConfig(env);
  try {
    await ensureDatabase(config.mysql.database, opts.freshDatabase);
    // Tables first, then the broker client: the broker may check back on a previous run's transaction
    // messages as soon as the producer starts, and the check reads mq_tx_log.
    const plain = await createServiceContext(config, { process: 'script' });
    await runMigrations(plain.db, plain.pool);
    await plain.close();
    const ctx = await createServiceContext(config, { process: 'script', mq: true });
    return { config, ctx };
  } catch (err) {
    needInfra(err);
  }
}
