import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, toAppError } from '../internal/errorx/index.js';
import { httpStatusOf } from './http-status.js';

/** Fastify's own 4xx (body parsing, limits) as AppErrors whose message says what to send instead. */
function fastifyClientError(err: FastifyError): AppError {
  const details = { reason: err.code };
  switch (err.statusCode) {
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE', `request body is too large: ${err.message}`, details);
    case 415:
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        'send the request body as JSON with Content-Type: application/json',
        details,
      );
    case 429:
      return new AppError('RATE_LIMITED', err.message, details);
    default:
      return new AppError('VALIDATION_FAILED', err.message, details);
  }
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a malformed %-escape, a path parameter over
 * 100 characters) get the same error body as every other refusal. No hook has run yet, so the request id
 * header is set here.
 */
export function urlErrorHandler(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  const body: ErrorBody = {
    code: 'VALIDATION_FAILED',
    message: `the URL is invalid (${err.message}); check the path parameters`,
    details: { reason: err.code },
    requestId: String(req.id),
  };
  void reply.code(400).header('x-request-id', req.id).send(body);
}

/** Body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  requestId: string;
}

/**
 * One error handler: AppErrors keep their code; Fastify's own 4xx (validation, body too large,
 * bad JSON) get VALIDATION_FAILED-style codes; anything else is a 500 that leaks nothing.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    let appErr: AppError;
    let status: number;
    if (err instanceof AppError) {
      appErr = err;
      status = httpStatusOf[err.kind];
    } else if (err.validation) {
      appErr = new AppError(
        'VALIDATION_FAILED',
        `request ${err.validationContext ?? 'input'} is invalid: ${err.message}`,
        {
          errors: err.validation.map((v) => ({ path: v.instancePath, message: v.message })),
        },
      );
      status = 400;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      appErr = fastifyClientError(err);
      status = err.statusCode;
    } else {
      appErr = toAppError(err);
      status = httpStatusOf[appErr.kind];
    }
    // A fault of ours (500) is an error; a dependency that is down or slow (503, answered with
    // Retry-After) is a warning: the 5xx alert counts both, and an outage is not a page of errors.
    if (status >= 500) req.log[appErr.kind === 'internal' ? 'error' : 'warn']({ err }, 'request failed');
    // A dependency that is down or slow: tell the client when to come back.
    if (status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '2');
    const retryAfter = appErr.details?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number' && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(retryAfter));
    }
    const body: ErrorBody = { code: appErr.code, message: appErr.message, requestId: String(req.id) };
    if (appErr.details) body.details = appErr.details;
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({
      code: 'NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0]}`,
      requestId: String(req.id),
    });
  });
}
