export interface BatcherOptions<T> {
  /** Flush a shard when it holds this many items... */
  size: number;
  /** ...or when its oldest item has waited this long, whichever comes first. */
  intervalMs: number;
  /** Items buffered over all shards at most; `add` waits for room beyond it (back-pressure). */
  maxBuffered: number;
  /** Items of one shard are flushed together (e.g. one flash sale's tickets). */
  shardOf: (item: T) => string;
  /** Sends one batch. A failure is reported to `onError`; the items are not retried here. */
  flush: (shard: string, items: T[]) => Promise<void>;
  onError?: (err: unknown, shard: string, items: T[]) => void;
  /** Observes every flush (size and why), for metrics and tests. */
  onFlush?: (shard: string, count: number, reason: 'size' | 'interval' | 'close') => void;
}

interface Shard<T> {
  items: T[];
  timer: NodeJS.Timeout | undefined;
}

/**
 * go-zero-style aggregation: items are buffered per shard and flushed at `size` items or after
 * `intervalMs`, whichever first. The buffer is bounded: beyond `maxBuffered` items `add` waits until
 * a flush makes room. `close()` flushes everything and waits for flushes in flight (SIGTERM).
 * Buffered items are lost if the process dies: callers keep their own record (the flash sale keeps
 * queued tickets in Redis and a job re-sends what never arrived).
 */
export class Batcher<T> {
  readonly #opts: BatcherOptions<T>;
  readonly #shards = new Map<string, Shard<T>>();
  readonly #inflight = new Set<Promise<void>>();
  #buffered = 0;
  #waiters: Array<() => void> = [];
  #closed = false;

  constructor(opts: BatcherOptions<T>) {
    this.#opts = opts;
  }

  get buffered(): number {
    return this.#buffered;
  }

  async add(item: T): Promise<void> {
    while (this.#buffered >= this.#opts.maxBuffered && !this.#closed) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (this.#closed) throw new Error('the batcher is closed');
    const key = this.#opts.shardOf(item);
    let shard = this.#shards.get(key);
    if (!shard) {
      shard = { items: [], timer: undefined };
      this.#shards.set(key, shard);
    }
    shard.items.push(item);
    this.#buffered++;
    if (shard.items.length >= this.#opts.size) this.#flush(key, 'size');
    else shard.timer ??= setTimeout(() => this.#flush(key, 'interval'), this.#opts.intervalMs);
  }

  /** Flushes every shard now and waits for all flushes to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const key of [...this.#shards.keys()]) this.#flush(key, 'close');
    await Promise.allSettled([...this.#inflight]);
    for (const w of this.#waiters.splice(0)) w();
  }

  #flush(key: string, reason: 'size' | 'interval' | 'close'): void {
    const shard = this.#shards.get(key);
    if (!shard || shard.items.length === 0) return;
    clearTimeout(shard.timer);
    this.#shards.delete(key);
    const items = shard.items;
    this.#opts.onFlush?.(key, items.length, reason);
    const p = this.#opts
      .flush(key, items)
      .catch((err: unknown) => this.#opts.onError?.(err, key, items))
      .finally(() => {
        this.#inflight.delete(p);
        this.#buffered -= items.length;
        for (const w of this.#waiters.splice(0)) w();
      });
    this.#inflight.add(p);
  }
}
