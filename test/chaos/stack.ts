import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { mariadbPids } from '../helpers/mariadb.js';
import { type Proc, startProcess } from '../helpers/process.js';
import { sleep } from '../helpers/wait.js';

/**
 * The stack under chaos: the four long-running processes, run as in production (separate processes),
 * against their own database, Redis server, RocketMQ namespace and etcd prefix, so the faults injected
 * here meet nothing else. MariaDB and the broker are the shared local ones: they are restarted for real.
 */
export const CHAOS_DB = 'qianfan_order_chaos';
export const CHAOS_REDIS_PORT = 16390;
const RUN_DIR = process.env.QIANFAN_RUN_DIR ?? '/dev/shm/qianfan-order';
const REDIS_DIR = `${RUN_DIR}/chaos-redis`;

export const chaosEnv: NodeJS.ProcessEnv = {
  QIANFAN_MYSQL__DATABASE: CHAOS_DB,
  QIANFAN_REDIS__PORT: String(CHAOS_REDIS_PORT),
  QIANFAN_REDIS__KEY_PREFIX: 'qf:order:chaos:',
  QIANFAN_ROCKETMQ__NAMESPACE: 'qfchaos',
  QIANFAN_ETCD__PREFIX: '/qianfan-chaos/services/',
  QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
  QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
  QIANFAN_ORDER__PAYMENT_TIMEOUT_MINUTES: '1',
  QIANFAN_JOBS__CLOSE_EXPIRED_ORDERS: '*/5 * * * * *',
  QIANFAN_JOBS__RESEND_REFUNDS: '*/10 * * * * *',
  QIANFAN_JOBS__RECONCILE_PAYMENTS: '*/15 * * * * *',
  QIANFAN_JOBS__FLASHSALE_REQUEUE: '*/2 * * * * *',
  QIANFAN_FLASH_SALE__REQUEUE_AFTER_SECONDS: '5',
  QIANFAN_LOG__LEVEL: 'warn',
};

export type ProcName = 'restful' | 'service' | 'consumer' | 'job';
export const PROCESSES: ProcName[] = ['restful', 'service', 'consumer', 'job'];

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function until(what: string, ms: number, f: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return;
    await sleep(300);
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

/** The chaos database, created fresh and migrated with the service's own migrate command. */
export function freshDatabase(): void {
  execFileSync('mysql', [
    '-h',
    '127.0.0.1',
    '-u',
    'root',
    '-e',
    `DROP DATABASE IF EXISTS ${CHAOS_DB}; CREATE DATABASE ${CHAOS_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  ]);
  const r = spawnSync(process.execPath, ['bin/qianfan-order.js', 'migrate'], {
    env: { ...process.env, QIANFAN_CONFIG: 'config/test.yaml', ...chaosEnv },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`migrate failed: ${r.stdout}${r.stderr}`);
}

/** Its own redis-server with an fsync'd append-only file, so a kill -9 loses nothing that was acknowledged. */
export async function startRedis(fresh: boolean): Promise<void> {
  if (fresh) rmSync(REDIS_DIR, { recursive: true, force: true });
  mkdirSync(REDIS_DIR, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(CHAOS_REDIS_PORT),
      '--bind',
      '127.0.0.1',
      '--dir',
      REDIS_DIR,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--pidfile',
      `${REDIS_DIR}/redis.pid`,
      '--logfile',
      `${REDIS_DIR}/redis.log`,
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore', detached: true },
  );
  child.unref();
  await until('chaos Redis to accept connections', 15_000, () => portOpen(CHAOS_REDIS_PORT));
}

export async function killRedis(): Promise<void> {
  const pid = Number(readFileSync(`${REDIS_DIR}/redis.pid`, 'utf8'));
  process.kill(pid, 'SIGKILL');
  await until('chaos Redis to stop', 10_000, async () => !alive(pid) && !(await portOpen(CHAOS_REDIS_PORT)));
}

export async function restartRedis(): Promise<void> {
  await killRedis();
  await sleep(1000);
  await startRedis(false);
}

/**
 * Stalls a dependency without killing it: SIGSTOP, then SIGCONT after `ms`. Its connections stay open and
 * nothing answers, which is how a dependency that hangs (GC pause, full disk, network partition) looks to
 * a client: only timeouts get a caller out. `during` runs while it is stopped.
 */
export async function stall(which: 'redis' | 'mariadb' | 'broker', ms: number, during?: () => Promise<void>) {
  const pids =
    which === 'redis'
      ? [Number(readFileSync(`${REDIS_DIR}/redis.pid`, 'utf8'))]
      : which === 'broker'
        ? [Number(readFileSync(`${RUN_DIR}/broker.pid`, 'utf8'))]
        : mariadbPids();
  const end = Date.now() + ms;
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  try {
    await during?.();
    await sleep(Math.max(0, end - Date.now()));
  } finally {
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  }
}

/** Running and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** kill -9 of MariaDB, then started again as the CI script starts it; InnoDB recovers on start. */
export async function restartMariaDb(): Promise<void> {
  execFileSync('pkill', ['-KILL', '-x', 'mariadbd']);
  await until('MariaDB to stop', 30_000, async () => {
    return mariadbPids().every((p) => !alive(p)) && !(await portOpen(3306));
  });
  await sleep(1000);
  mkdirSync('/run/mysqld', { recursive: true });
  spawnSync('chown', ['mysql:mysql', '/run/mysqld']);
  execFileSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd']);
  await until('MariaDB to accept connections', 90_000, async () => {
    if (!(await portOpen(3306))) return false;
    return spawnSync('mysql', ['-h', '127.0.0.1', '-u', 'root', '-e', 'SELECT 1']).status === 0;
  });
}

/** MariaDB can be restarted here only when it is this machine's mariadbd and we may signal it. */
export function canRestartMariaDb(): boolean {
  return mariadbPids().length > 0 && process.getuid?.() === 0;
}

/** kill -9 of the broker+proxy (namesrv stays), then the project's script starts it again. */
export async function restartBroker(): Promise<void> {
  const pid = Number(readFileSync(`${RUN_DIR}/broker.pid`, 'utf8'));
  process.kill(pid, 'SIGKILL');
  await until('the broker to stop', 30_000, async () => !alive(pid) && !(await portOpen(8081)));
  const r = spawnSync('bash', ['deploy/rocketmq/rocketmq.sh', 'start'], { encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`broker restart failed:\n${r.stdout}\n${r.stderr}`);
}

const entry: Record<ProcName, string> = {
  restful: 'restful/main.ts',
  service: 'service/main.ts',
  consumer: 'consumer/main.ts',
  job: 'job/main.ts',
};

/** One process to run: which kind, with what environment, ready when its admin port says so. */
export interface ProcSpec {
  kind: ProcName;
  env: NodeJS.ProcessEnv;
  adminPort: number;
}

/** The chaos suite's stack: one of each kind on the test config's ports. */
export const ONE_OF_EACH: Record<string, ProcSpec> = {
  restful: { kind: 'restful', env: chaosEnv, adminPort: 19100 },
  service: { kind: 'service', env: chaosEnv, adminPort: 19101 },
  consumer: { kind: 'consumer', env: chaosEnv, adminPort: 19102 },
  job: { kind: 'job', env: chaosEnv, adminPort: 19103 },
};

/** The processes, each restartable; a kill -9 leaves nothing to clean up (crash-only design). */
export class Processes {
  readonly procs = new Map<string, Proc>();
  readonly crashes: string[] = [];
  /** Output of every run of each process, the ones killed included. */
  readonly #past = new Map<string, string[]>();

  constructor(readonly specs: Record<string, ProcSpec> = ONE_OF_EACH) {
    // The runner ends a file that overruns its timeout with a signal: the processes and the chaos Redis go
    // with it, so nothing is left holding the test ports.
    const cleanup = () => {
      for (const p of this.procs.values()) if (p.child.exitCode === null) p.child.kill('SIGKILL');
      try {
        process.kill(Number(readFileSync(`${REDIS_DIR}/redis.pid`, 'utf8')), 'SIGKILL');
      } catch {
        // not running
      }
    };
    process.once('exit', cleanup);
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        cleanup();
        process.exit(1);
      });
    }
  }

  get names(): string[] {
    return Object.keys(this.specs);
  }

  start(name: string): void {
    const spec = this.specs[name]!;
    const before = this.procs.get(name);
    if (before) this.#past.set(name, [...(this.#past.get(name) ?? []), before.output()]);
    const p = startProcess(entry[spec.kind], [], spec.env);
    this.procs.set(name, p);
    void p.exited.then(({ code, signal }) => {
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM' && this.procs.get(name) === p) {
        this.crashes.push(`${name} exited by itself (code ${code}, signal ${signal}):\n${p.output().slice(-3000)}`);
      }
    });
  }

  async ready(name: string, ms = 60_000): Promise<void> {
    const port = this.specs[name]!.adminPort;
    await until(`${name} to be ready`, ms, async () => {
      const p = this.procs.get(name);
      if (p?.child.exitCode !== null) return false;
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    });
  }

  async kill9(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p) return;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(
      [...this.procs.values()].map((p) => Promise.race([p.exited, sleep(12_000).then(() => p.child.kill('SIGKILL'))])),
    );
  }

  output(name: string): string {
    return this.procs.get(name)?.output() ?? '';
  }

  /** Everything every run of `name` wrote. */
  allOutput(name: string): string {
    return [...(this.#past.get(name) ?? []), this.output(name)].join('\n');
  }
}
