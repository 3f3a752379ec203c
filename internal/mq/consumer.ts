import { type Tracer, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { FilterExpression, type MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { inSpan, type Logger, mqMetrics, SpanKind } from '../telemetry/index.js';
import { clientLogger } from './client-logger.js';
import { decodeEnvelope, type Envelope } from './envelope.js';
import { classifyFailure, describeFailure } from './failures.js';
import { brokerNames } from './names.js';
import { startClient } from './start-client.js';

export interface MessageMeta {
  messageId: string;
  topic: string;
  tag: string | undefined;
  keys: string[];
  messageGroup: string | undefined;
  deliveryAttempt: number;
  bornAt: Date | undefined;
  properties: Record<string, string>;
  body: Buffer;
}

export type MessageHandler = (envelope: Envelope, meta: MessageMeta) => Promise<void>;

/** A message set aside for an operator, as the dead-letter table stores it. */
export interface ParkedMessage {
  meta: MessageMeta;
  group: string;
  body: string;
  eventId: string;
  error: { code: string; message: string };
}

export interface ConsumerLoopOptions {
  endpoints: string;
  /** A prefix of the topic's and the group's names on the broker (names.ts); empty for none. */
  namespace: string;
  requestTimeoutMs: number;
  startupTimeoutMs: number;
  group: string;
  topic: string;
  /** Tag expression, e.g. `*` or `order.created||order.paid`. */
  filter?: string;
  batchSize?: number;
  /** Receive calls in flight at once: a slow batch never keeps other queues' messages waiting. */
  concurrency?: number;
  /** How long a received message stays invisible to others while we handle it. */
  invisibleMs?: number;
  /**
   * Long-polling wait of one receive call. The proxy refuses a poll whose deadline (requestTimeoutMs +
   * awaitMs) leaves less than its grpcClientConsumerMinLongPollingTimeoutMillis (5 s by default).
   */
  awaitMs?: number;
  /** Redelivery delay after a transient failure `err` of attempt n (1-based). Default: 1 s doubling to 10 s. */
  backoffMs?: (attempt: number, err?: unknown) => number;
  handler: MessageHandler;
  /**
   * Stores a permanently failed message for an operator (the dead-letter table). Without it, or when it
   * fails, the message is retried like a transient failure: nothing is acked unless it is kept somewhere.
   */
  park?: (parked: ParkedMessage) => Promise<void>;
  /** Called after a message was applied and acked (marks a replayed dead letter resolved). */
  onApplied?: (meta: MessageMeta) => Promise<void>;
  logger: Logger;
  /** Each message is handled in a CONSUMER span continuing the producer's trace. */
  tracer?: Tracer;
  metrics: Registry;
}

export const defaultBackoff = (attempt: number) => Math.min(10_000, 1000 * 2 ** Math.max(0, attempt - 1));

type Outcome = 'ok' | 'parked' | 'retry';

/**
 * Receive -> handle -> ack loops over SimpleConsumer. Failures are classified (failures.ts):
 * a permanent one is parked (dead-letter table) and acked at once, so it never holds a queue; a
 * transient one is left unacked with its invisible time set to a bounded back-off, and after the
 * group's max retries the broker moves it to %DLQ%<group>.
 * Messages of one batch are split into lanes by message group: lanes run in parallel, a lane runs in
 * order, and when one message of a lane must be retried the rest of its lane is put back behind it
 * (never applied before it). At-least-once: handlers must be idempotent.
 */
export class ConsumerLoop {
  readonly #opts: ConsumerLoopOptions;
  readonly #consumer: SimpleConsumer;
  readonly #log: Logger;
  readonly #names: ReturnType<typeof brokerNames>;
  #running = false;
  /** The invisible time asked for: the option's, or the proxy's minimum when it refuses that. */
  #invisibleMs: number;
  #loops: Promise<void>[] = [];
  readonly #busy = new Set<Promise<void>>();

  constructor(opts: ConsumerLoopOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ group: opts.group, topic: opts.topic });
    this.#names = brokerNames(opts.namespace);
    this.#invisibleMs = opts.invisibleMs ?? 30_000;
    this.#consumer = new SimpleConsumer({
      endpoints: opts.endpoints,
      namespace: '',
      requestTimeout: opts.requestTimeoutMs,
      consumerGroup: this.#names.wrap(opts.group),
      awaitDuration: opts.awaitMs ?? 5000,
      subscriptions: new Map([[this.#names.wrap(opts.topic), new FilterExpression(opts.filter ?? '*')]]),
      logger: clientLogger(opts.logger),
    });
  }

  get group(): string {
    return this.#opts.group;
  }

  async start(): Promise<void> {
    await startClient(
      `RocketMQ consumer ${this.#opts.group}`,
      this.#consumer,
      this.#opts.endpoints,
      this.#opts.startupTimeoutMs,
    );
    this.#running = true;
    this.#loops = Array.from({ length: this.#opts.concurrency ?? 1 }, () => this.#run());
  }

  isRunning(): boolean {
    return this.#running;
  }

  /**
   * Stops receiving: waits for every loop's receive to come back (within awaitMs, at most awaitMs plus
   * the request timeout; the client cannot cancel one) and for the batches in hand, handles what those
   * receives brought, then shuts the client down. A receive left parked at the broker would still take
   * the next messages and hide them from every other consumer for the invisible time.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await Promise.allSettled(this.#loops);
    await Promise.allSettled([...this.#busy]);
    // Tells the broker this client left; one that does not answer forgets the client by itself.
    await this.#consumer
      .shutdown()
      .catch((err: unknown) => this.#log.warn({ err }, 'the broker did not answer the consumer leaving'));
  }

  async #run(): Promise<void> {
    const { batchSize = 16 } = this.#opts;
    while (this.#running) {
      let batch: MessageView[];
      try {
        batch = await this.#consumer.receive(batchSize, this.#invisibleMs);
      } catch (err) {
        if (!this.#running) return;
        if (this.#raiseInvisibleTime(err)) continue;
        // No message within the long-poll window surfaces as an error in some client versions.
        if (!/no new message|MESSAGE_NOT_FOUND|40401/i.test(String((err as Error)?.message))) {
          mqMetrics(this.#opts.metrics).receiveFailures.inc({ topic: this.#opts.topic, group: this.#opts.group });
          this.#log.warn({ err }, 'receive failed; retrying in 1 s');
          await sleep(1000);
        }
        continue;
      }
      // Received after stop() too: the broker already hid these from every other consumer, so handle them.
      const p = this.#handleBatch(batch);
      this.#busy.add(p);
      await p.finally(() => this.#busy.delete(p));
    }
  }

  /**
   * A proxy refuses a receive whose invisible time is below its minInvisibleTimeMillsForRecv (10 s
   * unless configured). The loop then asks for that minimum, so it keeps consuming, and says once that
   * a dead consumer's messages now come back later than the group wants.
   */
  #raiseInvisibleTime(err: unknown): boolean {
    const min = /invisibleTime is too small\. min is (\d+)/.exec(String((err as Error)?.message))?.[1];
    if (min === undefined) return false;
    if (Number(min) <= this.#invisibleMs) return true; // another of this group's loops raised it already
    this.#log.warn(
      { wantedMs: this.#invisibleMs, minMs: Number(min) },
      "the broker's proxy refuses this group's invisible time; using its minimum. Set the proxy's minInvisibleTimeMillsForRecv to at most the wanted time (docs/operations.md)",
    );
    this.#invisibleMs = Number(min);
    return true;
  }

  async #handleBatch(batch: MessageView[]): Promise<void> {
    const lanes = new Map<string, MessageView[]>();
    for (const view of batch) {
      const lane = view.messageGroup ? `g:${view.messageGroup}` : `m:${view.messageId}`;
      const list = lanes.get(lane);
      if (list) list.push(view);
      else lanes.set(lane, [view]);
    }
    // A lane runs its messages one after another, so a long one (a slow database, a big flash-sale
    // batch) can outlast the invisible time of those behind it. While the batch runs, every message not
    // yet settled is kept invisible: none is handed to another receiver, so a group's order holds.
    for (const view of batch) this.#unsettled.add(view);
    const invisibleMs = this.#invisibleMs;
    const keep = setInterval(
      () => {
        for (const view of batch) {
          if (this.#unsettled.has(view)) void this.#serial(view, () => this.#extend(view, invisibleMs));
        }
      },
      Math.max(200, Math.floor(invisibleMs / 3)),
    );
    try {
      await Promise.all([...lanes.values()].map((lane) => this.#handleLane(lane)));
    } finally {
      clearInterval(keep);
      for (const view of batch) this.#unsettled.delete(view);
    }
  }

  /** Messages of the batches in hand that are neither acked nor set for a retry. */
  #unsettled = new Set<MessageView>();
  /** Calls that change a message's receipt handle, one at a time per message. */
  #pending = new WeakMap<MessageView, Promise<unknown>>();

  /** Runs `fn` after the calls already made on `view` (an ack never races an extension's new handle). */
  #serial<T>(view: MessageView, fn: () => Promise<T>): Promise<T> {
    const next = (this.#pending.get(view) ?? Promise.resolve()).then(fn, fn);
    this.#pending.set(
      view,
      next.catch(() => {}),
    );
    return next;
  }

  async #extend(view: MessageView, ms: number): Promise<void> {
    if (!this.#unsettled.has(view)) return;
    await this.#consumer
      .changeInvisibleDuration(view, ms)
      .catch((e: unknown) =>
        this.#log.warn({ err: e, messageId: view.messageId }, 'could not extend the invisible time'),
      );
  }

  #ack(view: MessageView): Promise<void> {
    this.#unsettled.delete(view);
    return this.#serial(view, () => this.#consumer.ack(view));
  }

  async #handleLane(lane: MessageView[]): Promise<void> {
    for (const [i, view] of lane.entries()) {
      const outcome = await this.#handleOne(view);
      if (outcome !== 'retry') continue;
      // The rest of this message group waits behind the one being retried, as long as it does.
      const delay = this.#delays.get(view) ?? this.#backoff(view);
      for (const later of lane.slice(i + 1)) await this.#retryIn(later, delay);
      return;
    }
  }

  #backoff(view: MessageView, err?: unknown): number {
    return (this.#opts.backoffMs ?? defaultBackoff)(view.deliveryAttempt ?? 1, err);
  }

  /** The retry delay chosen for a message that failed, for the messages of its group behind it. */
  #delays = new WeakMap<MessageView, number>();

  async #retryIn(view: MessageView, delay: number): Promise<void> {
    this.#unsettled.delete(view);
    await this.#serial(view, () =>
      this.#consumer
        .changeInvisibleDuration(view, delay)
        .catch((e: unknown) => this.#log.warn({ err: e, messageId: view.messageId }, 'could not set the retry delay')),
    );
  }

  async #handleOne(view: MessageView): Promise<Outcome> {
    const { consumed, duration } = mqMetrics(this.#opts.metrics);
    const labels = { topic: this.#opts.topic, group: this.#opts.group };
    const attempt = view.deliveryAttempt ?? 1;
    const meta: MessageMeta = {
      messageId: view.messageId,
      topic: this.#names.unwrap(view.topic),
      tag: view.tag,
      keys: view.keys,
      messageGroup: view.messageGroup,
      deliveryAttempt: attempt,
      bornAt: view.bornTimestamp,
      properties: Object.fromEntries(view.properties),
      body: view.body,
    };
    const end = duration.startTimer(labels);
    let outcome: Outcome;
    try {
      const envelope = decodeEnvelope(view.body);
      await inSpan(
        this.#opts.tracer ?? trace.getTracer('qianfan-order'),
        `consume ${meta.topic}`,
        {
          kind: SpanKind.CONSUMER,
          carrier: envelope.trace,
          attributes: {
            'messaging.destination.name': meta.topic,
            'messaging.message.id': view.messageId,
            'messaging.consumer.group.name': this.#opts.group,
          },
        },
        () => this.#opts.handler(envelope, meta),
      );
      await this.#ack(view);
      outcome = 'ok';
      await this.#opts
        .onApplied?.(meta)
        .catch((err: unknown) => this.#log.warn({ err, messageId: view.messageId }, 'after-apply hook failed'));
    } catch (err) {
      outcome = await this.#fail(view, meta, err);
    } finally {
      end();
    }
    consumed.inc({ ...labels, result: outcome });
    return outcome;
  }

  async #fail(view: MessageView, meta: MessageMeta, err: unknown): Promise<Outcome> {
    const error = describeFailure(err);
    const log = { err, messageId: view.messageId, attempt: meta.deliveryAttempt, code: error.code };
    if (classifyFailure(err) === 'permanent' && this.#opts.park) {
      try {
        await this.#opts.park({
          meta,
          group: this.#opts.group,
          body: view.body.toString('utf8'),
          eventId: meta.properties.event_id ?? '',
          error,
        });
        await this.#ack(view);
        // An expected refusal: its code and message say it all (no stack).
        const { err: _stack, ...brief } = log;
        this.#log.warn(
          { ...brief, reason: error.message },
          'message failed permanently; parked in the dead-letter table',
        );
        return 'parked';
      } catch (parkErr) {
        this.#log.error({ ...log, parkErr }, 'could not park a failed message; it will be retried');
      }
    }
    const delay = this.#backoff(view, err);
    this.#delays.set(view, delay);
    this.#log.warn({ ...log, retryInMs: delay }, 'message handling failed; retrying');
    await this.#retryIn(view, delay);
    return 'retry';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
