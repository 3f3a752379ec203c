/** While paused, one purchase per this interval is admitted: its batch's send tells whether the broker is back. */
const PROBE_INTERVAL_MS = 1000;

/**
 * Flash-sale admission follows the broker, per restful process: once a ticket batch failed to reach
 * RocketMQ, purchases are refused (503, retry) instead of being told QUEUED for tickets that cannot go
 * anywhere, which a broker outage longer than the requeue job's give-up time would fail one by one
 * while their units were sold again. One purchase per PROBE_INTERVAL_MS still goes through; the first
 * batch sent afterwards, probe or not, opens admission again.
 */
export class SendGate {
  #paused = false;
  #lastProbe = 0;
  readonly #now: () => number;
  readonly #onChange: (paused: boolean) => void;

  constructor(opts: { now?: () => number; onChange?: (paused: boolean) => void } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#onChange = opts.onChange ?? (() => {});
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** A batch reached the broker. */
  sent(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#onChange(false);
  }

  /** A batch did not reach the broker. */
  failed(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#lastProbe = this.#now();
    this.#onChange(true);
  }

  /** May a purchase be admitted now? Always while batches reach the broker; one per interval while not. */
  admit(): boolean {
    if (!this.#paused) return true;
    const now = this.#now();
    if (now - this.#lastProbe < PROBE_INTERVAL_MS) return false;
    this.#lastProbe = now;
    return true;
  }
}
