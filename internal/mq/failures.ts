import { appErrorIn, causeChain } from '../errorx/index.js';
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

/**
 * A failure that says a dependency is down or not answering (an outage), rather than something about the
 * message: DEPENDENCY_UNAVAILABLE and other `unavailable` AppErrors, lost or refused connections (MySQL,
 * Redis, the broker), command and call timeouts.
 */
export function isOutage(err: unknown): boolean {
  const appError = appErrorIn(err);
  if (appError) return appError.kind === 'unavailable';
  for (const e of causeChain(err)) if (isOutageError(e)) return true;
  return false;
}

/** One error (not what it wraps) says a dependency is down or not answering. */
function isOutageError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; fatal?: unknown } | undefined;
  if (e?.fatal === true) return true; // mysql2: the connection is gone
  if (
    typeof e?.code === 'string' &&
    /^(ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|PROTOCOL_|ER_SERVER_SHUTDOWN|ER_CON_COUNT_ERROR)/.test(e.code)
  ) {
    return true;
  }
  if (typeof e?.code === 'number' && (e.code === 14 || e.code === 4)) return true; // gRPC UNAVAILABLE, DEADLINE_EXCEEDED
  return /Command timed out|Connection is closed|Stream isn't writeable|connect ETIMEDOUT/i.test(
    String(e?.message ?? ''),
  );
}
