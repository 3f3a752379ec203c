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

/** Any thrown value as an AppError; unknown failures become INTERNAL with a generic message. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError('INTERNAL', 'internal error', undefined, { cause: err });
}
