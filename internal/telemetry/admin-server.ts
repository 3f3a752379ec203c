import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

export type ReadinessCheck = () => Promise<void>;

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, { ok: boolean; error?: string; ms: number }>;
}

/** Runs each named check with a timeout; the report is ok only when all pass. */
export async function runChecks(checks: Record<string, ReadinessCheck>, timeoutMs = 2000): Promise<HealthReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const started = performance.now();
      try {
        await withTimeout(check(), timeoutMs, `${name} check timed out after ${timeoutMs} ms`);
        return [name, { ok: true, ms: Math.round(performance.now() - started) }] as const;
      } catch (err) {
        return [
          name,
          { ok: false, error: (err as Error).message, ms: Math.round(performance.now() - started) },
        ] as const;
      }
    }),
  );
  const all = Object.fromEntries(entries);
  return { status: entries.every(([, r]) => r.ok) ? 'ok' : 'unavailable', checks: all };
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
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
      void runChecks(opts.checks).then((r) => send(r.status === 'ok' ? 200 : 503, r));
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
