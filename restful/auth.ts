import type { FastifyRequest } from 'fastify';
import { type Principal, verifyToken } from '../internal/auth/index.js';
import { AppError } from '../internal/errorx/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { userRateLimit } from './protection.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** preHandlers: a valid bearer JWT or 401, then the per-user rate limit. */
export function authenticate(ctx: ServiceContext) {
  return [
    async (req: FastifyRequest) => {
      const header = req.headers.authorization;
      const m = header ? /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/.exec(header) : null;
      if (!m?.[1]) throw new AppError('UNAUTHENTICATED', 'send Authorization: Bearer <JWT>');
      req.principal = await verifyToken(ctx.config.auth, m[1]);
    },
    userRateLimit(ctx),
  ];
}

/** preHandler after authenticate: the admin role or 403. */
export async function requireAdmin(req: FastifyRequest) {
  if (!req.principal?.roles.includes('admin')) throw new AppError('FORBIDDEN', 'this action needs the admin role');
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED', 'not authenticated');
  return req.principal;
}
