import type { Metadata } from '@grpc/grpc-js';
import type { Config } from '../internal/config/index.js';
import { AppError } from '../internal/errorx/index.js';

/**
 * Who is calling and what it may call: the `x-service-token` metadata names a caller (grpc.serviceTokens
 * `<caller>:<token>`), and grpc.callers lists the methods that caller may call. The token itself is
 * never stored or logged; the caller's name is what idempotency scopes and logs record.
 */
export function serviceCallers(grpc: Config['grpc'], methods: readonly string[]) {
  const known = new Set(methods);
  for (const [caller, allowed] of Object.entries(grpc.callers)) {
    const unknown = allowed.filter((m) => m !== '*' && !known.has(m));
    if (unknown.length > 0)
      throw new Error(
        `grpc.callers.${caller}: unknown method(s) ${unknown.join(', ')} (OrderService has ${methods.join(', ')})`,
      );
  }
  const byToken = new Map(grpc.serviceTokens.map((t) => [t.token, t.caller]));
  const may = (caller: string, method: string) => {
    const allowed = grpc.callers[caller] ?? [];
    return allowed.includes('*') || allowed.includes(method);
  };
  /** The caller's name, or UNAUTHENTICATED / FORBIDDEN (gRPC PERMISSION_DENIED). */
  return (metadata: Metadata, method: string): string => {
    const token = metadata.get('x-service-token')[0];
    const caller = typeof token === 'string' ? byToken.get(token) : undefined;
    if (caller === undefined) throw new AppError('UNAUTHENTICATED', 'send a valid x-service-token');
    if (!may(caller, method))
      throw new AppError('FORBIDDEN', `caller '${caller}' may not call ${method} (grpc.callers.${caller})`, {
        caller,
        method,
      });
    return caller;
  };
}
