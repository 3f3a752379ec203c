import { context, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { Pool } from './db.js';
import type { RedisClient as Redis } from './redis.js';

/** Client spans around every SQL statement and Redis command, children of whatever span is active. */
function clientSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Record<string, string>,
  run: () => Promise<T>,
): Promise<T> {
  const parent = context.active();
  // No span of our own for work outside any trace (start-up checks, pool keep-alives).
  if (!trace.getSpan(parent)) return run();
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
  return run().then(
    (v) => {
      span.end();
      return v;
    },
    (err: unknown) => {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      span.end();
      throw err;
    },
  );
}

const statementOf = (arg: unknown) => String(typeof arg === 'string' ? arg : ((arg as { sql?: string })?.sql ?? ''));

/**
 * SQL as drizzle sends it (placeholders, not values) is the span's `db.query.text`, cut at 1,000
 * characters; the operation (SELECT, INSERT ...) names the span.
 */
type Call = (...args: unknown[]) => Promise<unknown>;

function traceQueries(target: { query: Call; execute: Call }, tracer: Tracer, database: string) {
  for (const method of ['query', 'execute'] as const) {
    const original = target[method].bind(target);
    target[method] = (...args: unknown[]) => {
      const text = statementOf(args[0]);
      const op = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
      return clientSpan(
        tracer,
        `mysql ${op}`,
        {
          'db.system.name': 'mysql',
          'db.namespace': database,
          'db.operation.name': op,
          'db.query.text': text.slice(0, 1000),
        },
        () => original(...args),
      );
    };
  }
}

export function traceMysql(pool: Pool, tracer: Tracer, database: string): void {
  traceQueries(pool as never, tracer, database);
  const getConnection = pool.getConnection.bind(pool);
  // Transactions run on a connection taken from the pool: its statements are traced the same way.
  pool.getConnection = async () => {
    const conn = await getConnection();
    traceQueries(conn as never, tracer, database);
    return conn;
  };
}

/** One span per Redis command, named by the command only (keys and values may carry personal data). */
export function traceRedis(redis: Redis, tracer: Tracer): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((command: { name: string; promise: Promise<unknown> }, stream?: unknown) => {
    const parent = context.active();
    if (!trace.getSpan(parent)) return send(command as never, stream as never);
    const name = command.name.toUpperCase();
    void clientSpan(
      tracer,
      `redis ${name}`,
      { 'db.system.name': 'redis', 'db.operation.name': name },
      () => command.promise,
    ).catch(() => undefined);
    return send(command as never, stream as never);
  }) as never;
}
