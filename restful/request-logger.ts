import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

type Parent = FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };

/**
 * `req.log` for every request without building a pino child per request: the child (which carries
 * `reqId` and runs the redaction over its bindings) is made by the first line the request actually
 * writes at an enabled level. With the access log at info and the service at warn, most requests
 * write nothing and never pay for it.
 */
export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (logger, bindings, opts) =>
  opts.level === undefined
    ? (new RequestLogger(logger, bindings) as unknown as FastifyBaseLogger)
    : logger.child(bindings, opts);

class RequestLogger {
  #child: FastifyBaseLogger | undefined;
  readonly #parent: Parent;
  readonly #bindings: Bindings;

  constructor(parent: Parent, bindings: Bindings) {
    this.#parent = parent;
    this.#bindings = bindings;
  }

  get level(): string {
    return this.#child?.level ?? this.#parent.level;
  }
  set level(level: string) {
    this.#real().level = level;
  }
  fatal(...args: unknown[]) {
    this.#write('fatal', args);
  }
  error(...args: unknown[]) {
    this.#write('error', args);
  }
  warn(...args: unknown[]) {
    this.#write('warn', args);
  }
  info(...args: unknown[]) {
    this.#write('info', args);
  }
  debug(...args: unknown[]) {
    this.#write('debug', args);
  }
  trace(...args: unknown[]) {
    this.#write('trace', args);
  }
  silent() {}
  isLevelEnabled(level: string): boolean {
    const p = this.#child ?? this.#parent;
    return (p as Parent).isLevelEnabled?.(level) ?? true;
  }
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }

  #write(level: Level, args: unknown[]) {
    if (this.#child === undefined && !this.isLevelEnabled(level)) return;
    const real = this.#real();
    (real[level] as (...a: unknown[]) => void).apply(real, args);
  }

  #real(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings);
    return this.#child;
  }
}
