import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../internal/errorx/index.js';
import { type IdempotencySeal, requestHash, runIdempotent } from '../internal/idempotency/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

/** What a mutating route answers: stored with the change (see `seal`) and replayed to retries. */
export interface Answer {
  status: number;
  body: unknown;
  /** Response headers that belong to the answer (e.g. Location on 201), replayed with it. */
  headers?: Record<string, string>;
}

/**
 * Runs a mutating handler under the request's Idempotency-Key (internal/idempotency): a success is
 * replayed with `idempotent-replayed: true`, a refusal (4xx) is refused again the same way.
 */
export async function idempotent(
  ctx: ServiceContext,
  req: FastifyRequest,
  reply: FastifyReply,
  run: (seal: IdempotencySeal<Answer>) => Promise<Answer>,
) {
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || key === '') {
    throw new AppError('VALIDATION_FAILED', 'the Idempotency-Key header is required on this request (e.g. a UUID)');
  }
  const scope = `${req.principal?.userId ?? 'anon'}:${req.method}:${req.routeOptions.url}`;
  const { value, replayed } = await runIdempotent(
    ctx,
    { scope, key, hash: requestHash({ params: req.params, body: req.body }) },
    run,
  );
  if (replayed) reply.header('idempotent-replayed', 'true');
  if (value.headers) reply.headers(value.headers);
  return reply.status(value.status).send(value.body);
}
