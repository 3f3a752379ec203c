import { type ErrorCode, type ErrorKind, errorCodes } from './codes.js';

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

/** Any thrown value as an AppError; unknown failures become INTERNAL with a generic message. */
export function toAppError(err: unknown): AppError {
  return appErrorIn(err) ?? new AppError('INTERNAL', 'internal error', undefined, { cause: err });
}
