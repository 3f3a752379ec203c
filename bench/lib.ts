import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

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
  headers?: Record<string, string>;
  body?: string;
  setup?: (req: { headers: Record<string, string>; body?: string }) => {
    headers: Record<string, string>;
    body?: string;
  };
}): Promise<LoadResult> {
  const connections = opts.connections ?? 64;
  const seconds = opts.seconds ?? 10;
  const r = await autocannon({
    url: opts.url,
    connections,
    duration: seconds,
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
    seconds,
  };
}

/** Starts a process and waits until `ready()` answers true. */
export async function startProcess(
  file: string,
  env: NodeJS.ProcessEnv,
  ready: () => Promise<boolean>,
  args: string[] = [],
) {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode}`);
    if (await ready().catch(() => false)) break;
    if (Date.now() > deadline) throw new Error(`${file} was not ready in 60 s`);
    await sleep(200);
  }
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
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

/** Writes bench/results/<name>-<date>.json and returns its path. */
export function saveResult(name: string, data: unknown): string {
  const dir = path.join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().slice(0, 10)}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}

export const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;
