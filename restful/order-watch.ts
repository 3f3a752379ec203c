import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../internal/errorx/index.js';
import { getOrderDetail, type OrderChange, orderChangesSince, watchChannel } from '../internal/order/index.js';
import { openSubscriber, type RedisClient, type ServiceContext } from '../internal/svc/index.js';
import { principalOf, requireUser } from './auth.js';
import { IdParams, readErrorResponses } from './schemas.js';

/**
 * Live order status as Server-Sent Events. One Redis subscriber per process: a channel per watched order
 * (subscribed while someone watches it), on which every committed change of the order is announced
 * (internal/order/watch.ts). A notice wakes the order's streams, which read the versions they have not
 * sent from the order's status history and send each one: `id` = version, so a client that reconnects
 * with Last-Event-ID gets exactly the versions after it. A heartbeat comment keeps proxies from closing
 * an idle stream and re-reads the history too, so a lost notice delays an event by one heartbeat at most.
 */
export function orderWatchRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const hub = new WatchHub(ctx);
  app.addHook('preClose', async () => hub.closeAll());
  app.addHook('onClose', async () => hub.stop());

  app.get(
    '/v1/orders/:id/events',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'watchOrder',
        summary: "An order's status, live (Server-Sent Events)",
        description:
          "Each event is one version of the order (`id` = version, `event: order`, `data` = {orderId, version, status, previousStatus, reason, at}); the first is the current version, or every version after `Last-Event-ID` when the client resumes. A comment line every heartbeat. Another user's order is 404. At most http.orderStreamsPerUser open streams per user per process (429 TOO_MANY_STREAMS).",
        tags: ['orders'],
        security: [{ bearer: [] }],
        params: IdParams,
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ pattern: '^\\d{1,9}$', description: 'The last version received' }),
          ),
        }),
        response: {
          200: {
            description: 'text/event-stream, until the client or the server closes it',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...readErrorResponses,
        },
      },
    },
    async (req, reply) => {
      const userId = BigInt(principalOf(req).userId);
      const orderId = BigInt(req.params.id);
      const detail = await getOrderDetail(ctx, { orderId, userId }); // 404 for someone else's order
      const given = req.headers['last-event-id'];
      const after = typeof given === 'string' ? Number(given) : detail.order.version - 1;
      hub.admit(userId);
      reply.hijack();
      hub.open(req, reply, { orderId, userId, after });
    },
  );
}

interface Stream {
  orderId: bigint;
  userId: bigint;
  sent: number;
  reply: FastifyReply;
  busy: boolean;
  again: boolean;
  closed: boolean;
}

class WatchHub {
  readonly #ctx: ServiceContext;
  #sub: RedisClient | undefined;
  readonly #byOrder = new Map<string, Set<Stream>>();
  readonly #perUser = new Map<bigint, number>();
  #open = 0;
  readonly #heartbeat: NodeJS.Timeout;

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
    this.#heartbeat = setInterval(() => this.#beat(), ctx.config.http.orderStreamHeartbeatMs);
    this.#heartbeat.unref();
  }

  /** Refuses a stream over the caps, before anything is sent. */
  admit(userId: bigint) {
    const { orderStreamsPerUser, orderStreamsPerProcess } = this.#ctx.config.http;
    if ((this.#perUser.get(userId) ?? 0) >= orderStreamsPerUser) {
      throw new AppError('TOO_MANY_STREAMS', `at most ${orderStreamsPerUser} open order streams per user; close one`);
    }
    if (this.#open >= orderStreamsPerProcess) {
      throw new AppError('TOO_MANY_STREAMS', 'this server has as many order streams open as it takes; retry shortly');
    }
  }

  open(req: FastifyRequest, reply: FastifyReply, s: { orderId: bigint; userId: bigint; after: number }) {
    const stream: Stream = { ...s, sent: s.after, reply, busy: false, again: false, closed: false };
    this.#open++;
    this.#perUser.set(s.userId, (this.#perUser.get(s.userId) ?? 0) + 1);
    const key = String(s.orderId);
    let set = this.#byOrder.get(key);
    if (!set) {
      set = new Set();
      this.#byOrder.set(key, set);
      this.#subscriber()
        .subscribe(watchChannel(this.#ctx, key))
        .catch((err: unknown) => this.#ctx.logger.warn({ err }, 'order watch not subscribed; heartbeats re-read'));
    }
    set.add(stream);
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no', // nginx: pass events on as they come
      'x-request-id': String(req.id),
      connection: 'keep-alive',
    });
    reply.raw.write('retry: 2000\n\n');
    reply.raw.on('close', () => this.#close(stream));
    void this.#pump(stream);
  }

  /** Sends the versions the stream has not sent; one pump per stream at a time, re-run if woken meanwhile. */
  async #pump(s: Stream): Promise<void> {
    if (s.busy) {
      s.again = true;
      return;
    }
    s.busy = true;
    try {
      do {
        s.again = false;
        const changes: OrderChange[] = await orderChangesSince(this.#ctx, s.orderId, s.sent);
        for (const c of changes) {
          if (s.closed) return;
          s.reply.raw.write(`id: ${c.version}\nevent: order\ndata: ${JSON.stringify(c)}\n\n`);
          s.sent = c.version;
        }
        if (changes.length === 100) s.again = true;
      } while (s.again && !s.closed);
    } catch (err) {
      this.#ctx.logger.warn(
        { err, orderId: String(s.orderId) },
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
        s.reply.raw.write(': heartbeat\n\n');
        void this.#pump(s);
      }
    }
  }

  #close(s: Stream) {
    if (s.closed) return;
    s.closed = true;
    this.#open--;
    const n = (this.#perUser.get(s.userId) ?? 1) - 1;
    if (n > 0) this.#perUser.set(s.userId, n);
    else this.#perUser.delete(s.userId);
    const key = String(s.orderId);
    const set = this.#byOrder.get(key);
    set?.delete(s);
    if (set?.size === 0) {
      this.#byOrder.delete(key);
      this.#sub?.unsubscribe(watchChannel(this.#ctx, key)).catch(() => {});
    }
  }

  /** On shutdown: ends every stream, so clients reconnect (with Last-Event-ID) to another process. */
  closeAll() {
    for (const set of [...this.#byOrder.values()]) for (const s of [...set]) s.reply.raw.end();
  }

  async stop() {
    clearInterval(this.#heartbeat);
    this.#sub?.disconnect();
  }
}
