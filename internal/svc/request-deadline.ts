import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The moment (epoch ms) by which a request must have its answer, while it is being handled: HTTP
 * requests get http.requestDeadlineMs, gRPC calls grpc.requestDeadlineMs or the caller's own deadline if
 * sooner. Each MySQL wait (internal/svc/db-bounds.ts) is cut at whichever comes first, its own bound or
 * this, so a request that meets several slow statements in a row still answers in time.
 *
 * Work that outlives the request runs in its context too (a timer it set, a client stream it happened
 * to open): `open` turns false when the request is answered, and from then on its deadline binds nothing.
 */
export interface RequestDeadline {
  at: number;
  open: boolean;
}

const deadlines = new AsyncLocalStorage<RequestDeadline>();

/** A deadline `ms` from now, or at `at` if that is sooner. */
export function requestDeadline(ms: number, at?: number): RequestDeadline {
  const own = Date.now() + ms;
  return { at: at === undefined ? own : Math.min(own, at), open: true };
}

/** Runs `fn`, and everything it starts, under `deadline`. */
export function withRequestDeadline<T>(deadline: RequestDeadline, fn: () => T): T {
  return deadlines.run(deadline, fn);
}

/** Milliseconds left before the current request's deadline (negative once past); undefined outside one. */
export function requestMsLeft(): number | undefined {
  const d = deadlines.getStore();
  return d?.open ? d.at - Date.now() : undefined;
}
