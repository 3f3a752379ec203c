// A small process supervisor for local development: starts each process, prefixes its log lines,
// restarts one that dies (with backoff), and on Ctrl-C / SIGTERM stops them all gracefully.
//   node deploy/local/supervise.mjs restful service consumer job
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const names = process.argv.slice(2);
const colors = [36, 35, 33, 32, 34];
const width = Math.max(...names.map((n) => n.length));
let stopping = false;
const children = new Map();

function prefix(name) {
  const c = colors[names.indexOf(name) % colors.length];
  return `\x1b[${c}m${name.padEnd(width)} |\x1b[0m `;
}

function start(name, attempt = 0) {
  const child = spawn(process.execPath, ['--import', 'tsx', `${name}/main.ts`], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(name, child);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${prefix(name)}${line}\n`));
  }
  const startedAt = Date.now();
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    const next = Date.now() - startedAt > 30_000 ? 0 : attempt + 1;
    const delay = Math.min(30_000, 1000 * 2 ** next);
    process.stdout.write(`${prefix(name)}exited (${signal ?? code}); restarting in ${delay / 1000} s\n`);
    setTimeout(() => !stopping && start(name, next), delay);
  });
}

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`supervisor: ${signal}, stopping ${[...children.keys()].join(', ')}\n`);
  for (const child of children.values()) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000);
  const check = setInterval(() => {
    if (children.size === 0) {
      clearInterval(check);
      clearTimeout(force);
      process.exit(0);
    }
  }, 100);
}

process.on('SIGINT', () => stopAll('SIGINT'));
process.on('SIGTERM', () => stopAll('SIGTERM'));
for (const name of names) start(name);
