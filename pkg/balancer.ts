import { status } from '@grpc/grpc-js';

/**
 * Power of two choices with EWMA latency, the balancer of go-zero's zrpc (zrpc/internal/balancer/p2c):
 * pick two instances at random and send to the one with the lower load, where load is
 * sqrt(EWMA latency) × (calls in flight + 1). An instance that slows down, or stalls with calls piling
 * up, is avoided; one not picked for a second is picked once, so a recovered instance is tried again.
 * Success is an EWMA too: an instance whose calls keep failing (UNAVAILABLE, DEADLINE_EXCEEDED, ...) is
 * unhealthy and left out of the pair when a healthy pair can be drawn.
 *
 * Differences from zrpc, each for an instance that is gone or stalled:
 * - an instance whose channel reports it cannot connect (grpc-js TRANSIENT_FAILURE) is left out while
 *   others can connect, and the caller's single retry goes to an instance other than the one that failed;
 * - of a drawn pair where only one is healthy, the healthy one is chosen (zrpc compares load only);
 * - a call that ends UNAVAILABLE (refused, reset, shutting down) takes its instance out of the draw for
 *   1 s, doubling with each further one up to 30 s, until a call succeeds (outlier ejection, as Envoy
 *   does): a killed instance gets a few probes, not a share of the traffic, until etcd drops it;
 * - a new instance starts with the mean latency of the known ones, not none;
 * - the forced pick goes only to an instance with no call in flight: one whose calls are stuck (a stalled
 *   process) is not sent another every second; the stuck calls' outcome refreshes its stats.
 */

/** Latency and success decay with this time constant (zrpc: 10 s). */
const DECAY_MS = 10_000;
/** An instance not picked for this long is picked the next time it is drawn (zrpc: 1 s). */
const FORCE_PICK_MS = 1000;
const INIT_SUCCESS = 1000;
/** Below this success EWMA (out of INIT_SUCCESS) an instance is unhealthy (zrpc: half). */
const THROTTLE_SUCCESS = INIT_SUCCESS / 2;
/** Draws of a pair looking for two healthy instances (zrpc: 3). */
const PICK_TIMES = 3;
/** First and longest ejection after an UNAVAILABLE call. */
const EJECT_MS = 1000;
const MAX_EJECT_MS = 30_000;

/** Status codes that say the instance, not the request, failed (zrpc's codes.Acceptable, negated). */
const INSTANCE_FAILURES = new Set<number>([
  status.DEADLINE_EXCEEDED,
  status.INTERNAL,
  status.UNAVAILABLE,
  status.DATA_LOSS,
  status.UNIMPLEMENTED,
  status.RESOURCE_EXHAUSTED,
]);

export interface InstanceStats {
  address: string;
  /** Calls sent to this instance. */
  picked: number;
  inflight: number;
  /** EWMA of call latency, ms. */
  latencyMs: number;
  /** EWMA of success, 0..1. */
  success: number;
}

interface Conn {
  address: string;
  /** EWMA latency in µs. */
  lag: number;
  inflight: number;
  success: number;
  /** When the last call finished (ms), for the decay. */
  last: number;
  /** When it was last picked (ms), for the forced pick. */
  pick: number;
  picked: number;
  /** Left out of the draw until then (ms), after `ejections` UNAVAILABLE calls in a row. */
  ejectedUntil: number;
  ejections: number;
}

export interface Picked {
  address: string;
  /** Call once when the call ends: with its gRPC status code (0 for OK). */
  done(code: number): void;
}

export class P2cBalancer {
  readonly #conns = new Map<string, Conn>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly random: () => number = Math.random,
  ) {}

  /** Keeps the stats of the listed addresses, forgets the rest. */
  update(addresses: string[]): void {
    // A new instance starts with the known ones' mean latency: with none (zrpc), its load would be the
    // lowest of all until its first answers, and a burst would pile onto a process that just started.
    const known = [...this.#conns.values()].filter((c) => c.lag > 0);
    const lag = known.length > 0 ? known.reduce((sum, c) => sum + c.lag, 0) / known.length : 0;
    for (const a of addresses)
      if (!this.#conns.has(a))
        this.#conns.set(a, {
          address: a,
          lag,
          inflight: 0,
          success: INIT_SUCCESS,
          last: this.now(),
          pick: 0,
          picked: 0,
          ejectedUntil: 0,
          ejections: 0,
        });
    for (const a of [...this.#conns.keys()]) if (!addresses.includes(a)) this.#conns.delete(a);
  }

  /**
   * One instance for the next call, or undefined when none is known. `except` (the instance a failed
   * attempt went to) and instances for which `connectable` is false are left out while others remain.
   */
  pick(opts: { except?: string; connectable?: (address: string) => boolean } = {}): Picked | undefined {
    let conns = [...this.#conns.values()];
    const prefer = (keep: (c: Conn) => boolean) => {
      const kept = conns.filter(keep);
      if (kept.length > 0) conns = kept;
    };
    if (opts.except !== undefined) prefer((c) => c.address !== opts.except);
    if (opts.connectable) prefer((c) => opts.connectable!(c.address));
    const now = this.now();
    prefer((c) => c.ejectedUntil <= now);
    if (conns.length === 0) return undefined;
    const chosen = conns.length === 1 ? this.#touch(conns[0]!) : this.#chooseOfTwo(conns);
    return this.#start(chosen);
  }

  stats(): InstanceStats[] {
    return [...this.#conns.values()]
      .map((c) => ({
        address: c.address,
        picked: c.picked,
        inflight: c.inflight,
        latencyMs: c.lag / 1000,
        success: c.success / INIT_SUCCESS,
      }))
      .sort((a, b) => a.address.localeCompare(b.address));
  }

  #chooseOfTwo(conns: Conn[]): Conn {
    let c1 = conns[0]!;
    let c2 = conns[1]!;
    for (let i = 0; i < PICK_TIMES; i++) {
      const a = Math.floor(this.random() * conns.length);
      let b = Math.floor(this.random() * (conns.length - 1));
      if (b >= a) b++;
      c1 = conns[a]!;
      c2 = conns[b]!;
      if (healthy(c1) && healthy(c2)) break;
    }
    if (healthy(c1) === healthy(c2) ? load(c1) > load(c2) : !healthy(c1)) [c1, c2] = [c2, c1];
    if (c2.inflight === 0 && this.now() - c2.pick > FORCE_PICK_MS) return this.#touch(c2);
    return this.#touch(c1);
  }

  #touch(c: Conn): Conn {
    c.pick = this.now();
    return c;
  }

  #start(c: Conn): Picked {
    c.inflight++;
    c.picked++;
    const started = this.now();
    let finished = false;
    return {
      address: c.address,
      done: (code) => {
        if (finished) return;
        finished = true;
        c.inflight--;
        const now = this.now();
        const td = Math.max(0, now - c.last);
        c.last = now;
        let w = Math.exp(-td / DECAY_MS);
        const lag = Math.max(0, now - started) * 1000;
        if (c.lag === 0) w = 0;
        c.lag = c.lag * w + lag * (1 - w);
        const ok = INSTANCE_FAILURES.has(code) ? 0 : INIT_SUCCESS;
        c.success = c.success * w + ok * (1 - w);
        if (code === status.UNAVAILABLE) {
          c.ejections++;
          c.ejectedUntil = now + Math.min(EJECT_MS * 2 ** (c.ejections - 1), MAX_EJECT_MS);
        } else if (ok) c.ejections = 0;
      },
    };
  }
}

const healthy = (c: Conn) => c.success > THROTTLE_SUCCESS;

/** zrpc: sqrt(lag + 1) × (inflight + 1). */
const load = (c: Conn) => Math.sqrt(c.lag + 1) * (c.inflight + 1);
