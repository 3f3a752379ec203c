import { appErrorIn } from '../errorx/index.js';
import { MalformedMessageError, NewerSchemaError } from './envelope.js';

export type FailureClass = 'permanent' | 'transient';

/**
 * A handler asks for a later retry of a message that may apply once something else has happened
 * (a delivery update that arrived before the order was shipped).
 */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
}

/**
 * What to do with a message whose handling failed. Permanent: it can never succeed as it is (malformed,
 * invalid, refers to nothing, breaks a rule of the input); retrying only holds other messages back, so it
 * is parked for an operator. Transient: a dependency, a lock or a race that may clear; retried with
 * bounded back-off, then the broker's DLQ.
 */
export function classifyFailure(err: unknown): FailureClass {
  if (err instanceof MalformedMessageError) return 'permanent';
  if (err instanceof RetryLaterError || err instanceof NewerSchemaError) return 'transient';
  const appError = appErrorIn(err);
  if (appError) {
    switch (appError.kind) {
      case 'invalid':
      case 'not_found':
      case 'unprocessable':
      case 'unauthenticated':
      case 'forbidden':
      case 'precondition':
        return 'permanent';
      default:
        return 'transient'; // conflict, unavailable, rate_limited, internal
    }
  }
  return 'transient'; // driver, network and timeout errors
}

/** The stable code and a short message of a failure, for the dead-letter table and logs. */
export function describeFailure(err: unknown): { code: string; message: string } {
  const appError = appErrorIn(err);
  if (appError) return { code: appError.code, message: appError.message };
  if (err instanceof MalformedMessageError) return { code: 'MALFORMED_MESSAGE', message: err.message };
  if (err instanceof RetryLaterError) return { code: 'RETRY_LATER', message: err.message };
  if (err instanceof NewerSchemaError) return { code: 'NEWER_SCHEMA_VERSION', message: err.message };
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e?.code === 'string' ? e.code.slice(0, 64) : 'INTERNAL',
    message: String(e?.message ?? err).slice(0, 500),
  };
}
