import { type ErrorCode, type ErrorKind, errorCodes } from './codes.js';
import { isOutageError } from './outage.js';

export type ErrorDetails = Record<string, unknown>;

/** The one error type use cases throw. `message` is safe to show a caller; `cause` never is. */
export class AppError extends Error {
  override name = 'AppError';
  readonly code: ErrorCode;
  readonly details: ErrorDetails | undefined;

  constructor(code: ErrorCode, message: string, details?: ErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  get kind(): ErrorKind {
    return errorCodes[this.code];
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** `err` and what it wraps (`cause`), outermost first, at most five deep. */
export function* causeChain(err: unknown): Generator<unknown> {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) yield e;
}

/**
 * The AppError `err` is or wraps: drizzle wraps whatever a statement threw (a statement past
 * mysql.statementTimeoutMs throws DEPENDENCY_UNAVAILABLE) in its own query error.
 */
export function appErrorIn(err: unknown): AppError | undefined {
  for (const e of causeChain(err)) if (e instanceof AppError) return e;
  return undefined;
}

/**
 * A failure that says a dependency is down or not answering (an outage), rather than something about the
 * request or message: DEPENDENCY_UNAVAILABLE and other `unavailable` AppErrors, lost or refused
 * connections (MySQL, Redis, the broker), command and call timeouts, also when drizzle wraps them.
 */
export function isOutage(err: unknown): boolean {
  const appError = appErrorIn(err);
  if (appError) return appError.kind === 'unavailable';
  for (const e of causeChain(err)) if (isOutageError(e)) return true;
  return false;
}

/**
 * Any thrown value as an AppError: an outage the code did not name (a MySQL connection that could not
 * be opened or was lost, a Redis command timeout) is DEPENDENCY_UNAVAILABLE, which callers retry (HTTP
 * 503 with Retry-After, gRPC UNAVAILABLE); other unknown failures become INTERNAL with a generic message.
 */
export function toAppError(err: unknown): AppError {
  const known = appErrorIn(err);
  if (known) return known;
  if ([...causeChain(err)].some(isOutageError)) {
    return new AppError(
      'DEPENDENCY_UNAVAILABLE',
      'a backing service (database, cache or broker) is unavailable right now; retry',
      undefined,
      { cause: err },
    );
  }
  return new AppError('INTERNAL', 'internal error', undefined, { cause: err });
}
