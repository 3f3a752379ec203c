import { AppError } from '../errorx/index.js';
import { openSubscriber, type RedisClient, type ServiceContext } from '../svc/index.js';
import { type OrderChange, orderChangesSince, watchChannel } from './watch.js';

/** One open watch of an order, as its transport delivers it (an SSE response, a gRPC stream). */
export interface OrderWatcher {
  orderId: bigint;
  /** Whose watch it is, for the per-user cap. */
  user: string;
  /** The last version the watcher has; versions after it are sent. */
  after: number;
  send(change: OrderChange): void;
  beat(): void;
  /** Ends the stream (at shutdown); the watcher then reconnects elsewhere with its last version. */
  end(): void;
}

interface Watch {
  w: OrderWatcher;
  sent: number;
  busy: boolean;
  again: boolean;
  closed: boolean;
}

/**
 * The live order streams of one process. One Redis subscriber: a channel per watched order (subscribed
 * while someone watches it), on which every committed change of the order is announced
 * (announceOrderChange). A notice wakes the order's watches, which read the versions they have not sent
 * from the order's status history and send each one, oldest first. A heartbeat re-reads the history too,
 * so a lost notice (Redis down or stalled) delays a change by one heartbeat at most.
 */
export class OrderWatchHub {
  readonly #ctx: ServiceContext;
  readonly #caps: { perUser: number; perProcess: number };
  #sub: RedisClient | undefined;
  readonly #byOrder = new Map<string, Set<Watch>>();
  readonly #perUser = new Map<string, number>();
  #open = 0;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(ctx: ServiceContext, opts: { perUser: number; perProcess: number; heartbeatMs: number }) {
    this.#ctx = ctx;
    this.#caps = opts;
    this.#heartbeat = setInterval(() => this.#beat(), opts.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** TOO_MANY_STREAMS over a cap; call before anything is sent. */
  admit(user: string) {
    if ((this.#perUser.get(user) ?? 0) >= this.#caps.perUser) {
      throw new AppError('TOO_MANY_STREAMS', `at most ${this.#caps.perUser} open order streams per user; close one`);
    }
    if (this.#open >= this.#caps.perProcess) {
      throw new AppError('TOO_MANY_STREAMS', 'this server has as many order streams open as it takes; retry shortly');
    }
  }

  /** Starts a watch (admitted before); returns what to call when the client goes away. */
  open(w: OrderWatcher): () => void {
    const watch: Watch = { w, sent: w.after, busy: false, again: false, closed: false };
    this.#open++;
    this.#perUser.set(w.user, (this.#perUser.get(w.user) ?? 0) + 1);
    const key = String(w.orderId);
    let set = this.#byOrder.get(key);
    if (!set) {
      set = new Set();
      this.#byOrder.set(key, set);
      this.#subscriber()
        .subscribe(watchChannel(this.#ctx, key))
        .catch((err: unknown) => this.#ctx.logger.warn({ err }, 'order watch not subscribed; heartbeats re-read'));
    }
    set.add(watch);
    void this.#pump(watch);
    return () => this.#close(watch);
  }

  /** Sends the versions the watch has not sent; one pump per watch at a time, re-run if woken meanwhile. */
  async #pump(s: Watch): Promise<void> {
    if (s.busy) {
      s.again = true;
      return;
    }
    s.busy = true;
    try {
      do {
        s.again = false;
        const changes = await orderChangesSince(this.#ctx, s.w.orderId, s.sent);
        for (const c of changes) {
          if (s.closed) return;
          s.w.send(c);
          s.sent = c.version;
        }
        if (changes.length === 100) s.again = true;
      } while (s.again && !s.closed);
    } catch (err) {
      this.#ctx.logger.warn(
        { err, orderId: String(s.w.orderId) },
        'order stream not updated; the next heartbeat retries',
      );
    } finally {
      s.busy = false;
    }
  }

  #subscriber(): RedisClient {
    if (!this.#sub) {
      const sub = openSubscriber(this.#ctx.config.redis);
      sub.on('message', (channel: string) => {
        const set = this.#byOrder.get(channel.slice(channel.lastIndexOf(':') + 1));
        for (const s of set ?? []) void this.#pump(s);
      });
      sub.on('error', (err: unknown) => this.#ctx.logger.debug({ err }, 'order watch subscriber error'));
      this.#sub = sub;
    }
    return this.#sub;
  }

  #beat() {
    for (const set of this.#byOrder.values()) {
      for (const s of set) {
        s.w.beat();
        void this.#pump(s);
      }
    }
  }

  #close(s: Watch) {
    if (s.closed) return;
    s.closed = true;
    this.#open--;
    const n = (this.#perUser.get(s.w.user) ?? 1) - 1;
    if (n > 0) this.#perUser.set(s.w.user, n);
    else this.#perUser.delete(s.w.user);
    const key = String(s.w.orderId);
    const set = this.#byOrder.get(key);
    set?.delete(s);
    if (set?.size === 0) {
      this.#byOrder.delete(key);
      this.#sub?.unsubscribe(watchChannel(this.#ctx, key)).catch(() => {});
    }
  }

  /** On shutdown: ends every stream, so clients reconnect (with their last version) to another process. */
  closeAll() {
    for (const set of [...this.#byOrder.values()]) for (const s of [...set]) s.w.end();
  }

  async stop() {
    clearInterval(this.#heartbeat);
    this.#sub?.disconnect();
  }
}
