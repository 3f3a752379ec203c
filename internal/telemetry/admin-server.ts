import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { withDeadline } from '../errorx/index.js';
import type { Logger } from './logger.js';

export type ReadinessCheck = () => Promise<void>;

export interface HealthReport {
  /** `degraded`: only checks the process can serve without failed (it stays ready). */
  status: 'ok' | 'degraded' | 'unavailable';
  checks: Record<string, { ok: boolean; error?: string; ms: number; degrades?: true }>;
}

/**
 * How long one readiness check may take. Below the probes' timeoutSeconds in deploy/k8s (3 s), so a
 * stalled dependency is reported by name instead of the probe timing out.
 */
export const READINESS_CHECK_TIMEOUT_MS = 1500;

/** The HTTP status a readiness report answers with: 503 only when the process cannot serve. */
export const readinessStatus = (r: HealthReport) => (r.status === 'unavailable' ? 503 : 200);

/**
 * Runs each named check with a timeout. The report is ok when all pass, degraded when only checks
 * named in `degradable` failed (dependencies the process serves without, e.g. Redis for restful), and
 * unavailable otherwise.
 */
export async function runChecks(
  checks: Record<string, ReadinessCheck>,
  degradable: readonly string[] = [],
  timeoutMs = READINESS_CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const started = performance.now();
      try {
        await withDeadline(check(), timeoutMs, () => new Error(`${name} check timed out after ${timeoutMs} ms`));
        return [name, { ok: true, ms: Math.round(performance.now() - started) }] as const;
      } catch (err) {
        const failed = { ok: false, error: (err as Error).message, ms: Math.round(performance.now() - started) };
        return [name, degradable.includes(name) ? { ...failed, degrades: true as const } : failed] as const;
      }
    }),
  );
  const all = Object.fromEntries(entries);
  const failed = entries.filter(([, r]) => !r.ok);
  const status =
    failed.length === 0 ? 'ok' : failed.every(([n]) => degradable.includes(n)) ? 'degraded' : 'unavailable';
  return { status, checks: all };
}

export interface AdminServer {
  server: Server;
  /** From now on /readyz answers 503 so load balancers stop sending work. */
  markDraining(): void;
  close(): Promise<void>;
}

/**
 * The small HTTP server of processes without an API port (service, consumer, job):
 * /healthz (the process is alive), /readyz (its dependencies answer), /metrics (Prometheus text).
 */
export async function startAdminServer(opts: {
  host: string;
  port: number;
  metrics: Registry;
  checks: Record<string, ReadinessCheck>;
  /** Checks whose failure leaves the process ready, reported as degraded. */
  degradable?: readonly string[];
  logger: Logger;
}): Promise<AdminServer> {
  let draining = false;
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { code: 'METHOD_NOT_ALLOWED' });
    if (url === '/healthz') return send(200, { status: 'ok' });
    if (url === '/readyz') {
      if (draining) return send(503, { status: 'draining', checks: {} });
      void runChecks(opts.checks, opts.degradable).then((r) => send(readinessStatus(r), r));
      return;
    }
    if (url === '/metrics') {
      void opts.metrics.metrics().then(
        (text) => send(200, text, opts.metrics.contentType),
        (err: Error) => send(500, { code: 'INTERNAL', message: err.message }),
      );
      return;
    }
    send(404, { code: 'NOT_FOUND', message: 'try /healthz, /readyz or /metrics' });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  opts.logger.info({ port: opts.port }, 'admin server listening (/healthz /readyz /metrics)');
  return {
    server,
    markDraining: () => {
      draining = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
