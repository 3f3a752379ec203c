import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../internal/errorx/index.js';
import { abandonIdempotent, beginIdempotent, completeIdempotent, requestHash } from '../internal/idempotency/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { httpStatusOf } from './http-status.js';

/**
 * Runs a mutating handler under the request's Idempotency-Key: the first response (success or 4xx) is
 * stored and replayed for the same key and body; a 5xx forgets the key so the client can retry it.
 */
export async function idempotent(
  ctx: ServiceContext,
  req: FastifyRequest,
  reply: FastifyReply,
  run: () => Promise<{ status: number; body: unknown }>,
) {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') {
    throw new AppError('VALIDATION_FAILED', 'the Idempotency-Key header is required on this request (e.g. a UUID)');
  }
  const scope = `${req.principal?.userId ?? 'anon'}:${req.method}:${req.routeOptions.url}`;
  const hash = requestHash({ params: req.params, body: req.body });
  const begun = await beginIdempotent(ctx, scope, key, hash);
  if (begun.kind === 'replay') {
    return reply.status(begun.status).header('idempotent-replayed', 'true').type('application/json').send(begun.body);
  }
  try {
    const { status, body } = await run();
    await completeIdempotent(ctx, scope, key, status, JSON.stringify(body));
    return reply.status(status).send(body);
  } catch (err) {
    const status = isAppError(err) ? httpStatusOf[err.kind] : 500;
    if (isAppError(err) && status < 500) {
      const body = {
        code: err.code,
        message: err.message,
        ...(err.details ? { details: err.details } : {}),
        requestId: String(req.id),
      };
      await completeIdempotent(ctx, scope, key, status, JSON.stringify(body));
    } else {
      await abandonIdempotent(ctx, scope, key).catch(() => {});
    }
    throw err;
  }
}
