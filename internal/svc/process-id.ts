import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a claim (a worker id, an idempotency key in flight) belongs to: the host, the PID namespace (two
 * containers can share a host name, each with its own pids), the pid, and a nonce of this process's
 * life (a restarted container reuses its pid).
 */
export interface ProcessId {
  host: string;
  pidNs: string;
  pid: number;
  nonce: string;
}

function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
}

export const thisProcess: ProcessId = Object.freeze({
  host: hostname(),
  pidNs: pidNamespace(),
  pid: process.pid,
  nonce: randomUUID(),
});

/**
 * Whether the process that made a claim is known to be gone: only a process this one can see (same host
 * and PID namespace) that no longer runs, or an earlier life of this very pid. Anything else (another
 * host, a live pid, a claim without an owner) is not known to be gone.
 */
export function goneFromThisHost(h: Partial<ProcessId> | undefined): boolean {
  if (!h || h.host !== thisProcess.host || typeof h.pid !== 'number') return false;
  if (h.pidNs !== undefined && h.pidNs !== thisProcess.pidNs) return false;
  if (h.pid === thisProcess.pid) return h.nonce !== thisProcess.nonce;
  try {
    process.kill(h.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
