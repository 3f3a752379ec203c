import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Debian installs it under /usr/sbin (not always on a user's PATH).
export const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/**
 * deploy/nginx/qianfan-order.conf in `dir`, listening on `port`, with two local restful processes upstream
 * (`extra`: more locations of the test's own, before the catch-all 404).
 */
export function nginxConfig(dir: string, upstream: [number, number], port: number, extra = ''): string {
  const site = readFileSync(path.join(root, 'deploy/nginx/qianfan-order.conf'), 'utf8')
    .replace('restful-1:8888', `127.0.0.1:${upstream[0]}`)
    .replace('restful-2:8888', `127.0.0.1:${upstream[1]}`)
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('    location / { return 404; }', `${extra}\n    location / { return 404; }`);
  writeFileSync(path.join(dir, 'qianfan-order.conf'), site);
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  // A worker finishing its connections after SIGQUIT gives up after 3 s: a test's stop never waits on it.
  const main = `
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_shutdown_timeout 3s;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/qianfan-order.conf;
}`;
  writeFileSync(path.join(dir, 'nginx.conf'), main);
  return path.join(dir, 'nginx.conf');
}

/**
 * A real nginx with that config, checked with `nginx -t` first; resolves once `/healthz` answers through it.
 * nginx runs in a process group of its own with no stdio of the test's: a worker outliving the test
 * would otherwise hold the test runner's output pipe open, and the runner waits on that pipe until its
 * file timeout (seen in CI: a file whose tests had all passed, timed out). On exit the group is killed.
 */
export async function startNginx(
  upstream: [number, number],
  port: number,
  extra = '',
): Promise<{ dir: string; stop(): void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'qf-nginx-'));
  const conf = nginxConfig(dir, upstream, port, extra);
  const check = spawn(NGINX, ['-t', '-p', dir, '-c', conf], { stdio: 'pipe' });
  // A missing binary is an 'error' with no 'exit': wait for either.
  const checked = await new Promise<number | null | Error>((r) => {
    check.once('exit', r);
    check.once('error', r);
  });
  if (checked instanceof Error)
    throw new Error(`cannot run ${NGINX} (bash deploy/local/tools.sh installs it): ${checked.message}`);
  if (checked !== 0) throw new Error('nginx -t refused deploy/nginx/qianfan-order.conf');
  const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-c', conf, '-g', 'daemon off;'], {
    stdio: 'ignore',
    detached: true,
  });
  const killGroup = () => {
    try {
      process.kill(-nginx.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killGroup);
  await waitFor(
    'nginx',
    10_000,
    async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
  );
  return {
    dir,
    stop: () => {
      nginx.kill('SIGQUIT');
      // Graceful first; whatever is left of the group a few seconds later is killed.
      setTimeout(killGroup, 5000).unref();
    },
  };
}
