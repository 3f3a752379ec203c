import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, toAppError } from '../internal/errorx/index.js';
import { httpStatusOf } from './http-status.js';

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
      appErr = new AppError(err.statusCode === 429 ? 'RATE_LIMITED' : 'VALIDATION_FAILED', err.message, {
        reason: err.code,
      });
      status = err.statusCode;
    } else {
      appErr = toAppError(err);
      status = httpStatusOf[appErr.kind];
    }
    if (status >= 500) req.log.error({ err }, 'request failed');
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
