import { AsyncLocalStorage } from 'node:async_hooks';

// The moment (epoch ms) by which the request being handled must have its answer: HTTP requests get
// http.requestDeadlineMs, gRPC calls grpc.requestDeadlineMs or the caller's own deadline if sooner.
// Each MySQL wait (internal/svc/db-bounds.ts) is cut at whichever comes first, its own bound or this,
// so a request that meets several slow statements in a row still answers in time.
const deadlines = new AsyncLocalStorage<number>();

/** Runs `fn` (and everything it starts) under a deadline `ms` from now, or `at` if that is sooner. */
export function withRequestDeadline<T>(ms: number, at: number | undefined, fn: () => T): T {
  const own = Date.now() + ms;
  return deadlines.run(at === undefined ? own : Math.min(own, at), fn);
}

/** Milliseconds left before the current request's deadline (negative once past); undefined outside a request. */
export function requestMsLeft(): number | undefined {
  const at = deadlines.getStore();
  return at === undefined ? undefined : at - Date.now();
}
