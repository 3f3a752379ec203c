import { spawnSync } from 'node:child_process';

/** The process ids of the local MariaDB server (mariadbd), for stalling it with SIGSTOP or restarting it. */
export const mariadbPids = (): number[] =>
  spawnSync('pgrep', ['-x', 'mariadbd'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
