import type { FastifyRequest } from 'fastify';
import { hasPermission, type Principal } from '../internal/auth/index.js';
import type { Permission } from '../internal/config/index.js';
import { AppError } from '../internal/errorx/index.js';
import type { ServiceContext } from '../internal/svc/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, when the request carried a valid bearer token (set in protection.ts). */
    principal?: Principal;
    /** Why the bearer token sent with the request was refused. */
    authError?: unknown;
  }
}

/** `Authorization: Bearer <header.payload.signature>`. */
export const BEARER = /^Bearer ([\w-]+\.[\w-]+\.[\w-]+)$/;

/**
 * preHandler: a user (a valid bearer JWT, checked with the rate limits in protection.ts) or 401 saying
 * what was wrong with the token.
 */
export async function requireUser(req: FastifyRequest) {
  if (req.principal) return;
  throw req.authError ?? new AppError('UNAUTHENTICATED', 'send Authorization: Bearer <JWT>');
}

/**
 * preHandlers for an admin route: a user (requireUser) who holds `permission` (the role `admin`, a role
 * named after the permission, or a role granted it in auth.rolePermissions), else 403 naming it.
 */
export function requirePermission(ctx: ServiceContext, permission: Permission) {
  const check = async (req: FastifyRequest) => {
    if (!req.principal || !hasPermission(req.principal, permission, ctx.config.auth.rolePermissions)) {
      throw new AppError(
        'FORBIDDEN',
        `this action needs the permission ${permission}: the role admin, a role named ${permission}, or a role granted it in auth.rolePermissions`,
        { permission },
      );
    }
  };
  return [requireUser, check];
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED', 'not authenticated');
  return req.principal;
}
