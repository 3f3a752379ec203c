import { Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { type AppError, type ErrorKind, toAppError } from '../internal/errorx/index.js';

/** The one place error kinds become gRPC status codes. */
export const grpcStatusOf: Record<ErrorKind, status> = {
  invalid: status.INVALID_ARGUMENT,
  unauthenticated: status.UNAUTHENTICATED,
  forbidden: status.PERMISSION_DENIED,
  not_found: status.NOT_FOUND,
  conflict: status.ALREADY_EXISTS,
  precondition: status.FAILED_PRECONDITION,
  unprocessable: status.INVALID_ARGUMENT,
  rate_limited: status.RESOURCE_EXHAUSTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** A gRPC error carrying the string code in the `error-code` trailer and as the message prefix. */
export function toServiceError(err: unknown): { error: Partial<ServiceError>; appError: AppError } {
  const appError = toAppError(err);
  const metadata = new Metadata();
  metadata.set('error-code', appError.code);
  if (appError.details) metadata.set('error-details', JSON.stringify(appError.details));
  return {
    appError,
    error: { code: grpcStatusOf[appError.kind], details: `${appError.code}: ${appError.message}`, metadata },
  };
}
