import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** The process ids of the local MariaDB server (mariadbd), for stalling it with SIGSTOP or restarting it. */
export const mariadbPids = (): number[] =>
  spawnSync('pgrep', ['-x', 'mariadbd'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);

/**
 * SIGSTOP to each process, returning once the kernel shows every thread of each stopped (state T):
 * kill() only queues the signal, and a statement sent at once could still be answered by a thread that
 * was running.
 */
export function stopProcesses(pids: number[]): void {
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  const stopped = (pid: number) =>
    readdirSync(`/proc/${pid}/task`).every((t) => / T /.test(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8')));
  const deadline = Date.now() + 2000;
  for (const pid of pids) {
    while (!stopped(pid)) {
      if (Date.now() > deadline) throw new Error(`process ${pid} did not stop within 2 s`);
    }
  }
}
