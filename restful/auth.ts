import type { FastifyRequest } from 'fastify';
import type { Principal } from '../internal/auth/index.js';
import { AppError } from '../internal/errorx/index.js';

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

/** preHandler after requireUser: the admin role or 403. */
export async function requireAdmin(req: FastifyRequest) {
  if (!req.principal?.roles.includes('admin')) throw new AppError('FORBIDDEN', 'this action needs the admin role');
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new AppError('UNAUTHENTICATED', 'not authenticated');
  return req.principal;
}
