import { type Tracer, trace } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { FilterExpression, type MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { inSpan, type Logger, mqMetrics, SpanKind } from '../telemetry/index.js';
import { clientLogger } from './client-logger.js';
import { decodeEnvelope, type Envelope, MalformedMessageError } from './envelope.js';
import { startClient } from './start-client.js';

export interface MessageMeta {
  messageId: string;
  topic: string;
  tag: string | undefined;
  keys: string[];
  messageGroup: string | undefined;
  deliveryAttempt: number;
  bornAt: Date | undefined;
}

export type MessageHandler = (envelope: Envelope, meta: MessageMeta) => Promise<void>;

export interface ConsumerLoopOptions {
  endpoints: string;
  namespace: string;
  requestTimeoutMs: number;
  startupTimeoutMs: number;
  group: string;
  topic: string;
  /** Tag expression, e.g. `*` or `order.created||order.paid`. */
  filter?: string;
  batchSize?: number;
  /** How long a received message stays invisible to others while we handle it. */
  invisibleMs?: number;
  /**
   * Long-polling wait of one receive call. The proxy refuses a poll whose deadline (requestTimeoutMs +
   * awaitMs) leaves less than its grpcClientConsumerMinLongPollingTimeoutMillis (5 s by default).
   */
  awaitMs?: number;
  /** Redelivery delay after a failed attempt (1-based). Default: 1 s doubling to 60 s. */
  backoffMs?: (attempt: number) => number;
  handler: MessageHandler;
  logger: Logger;
  /** Each message is handled in a CONSUMER span continuing the producer's trace. */
  tracer?: Tracer;
  metrics: Registry;
}

const defaultBackoff = (attempt: number) => Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));

/**
 * A receive -> handle -> ack loop over SimpleConsumer. A failed message is not acked: its invisible
 * time is set to the backoff, so the broker delivers it again; after the group's max retries the
 * broker moves it to %DLQ%<group>. Messages of one batch are handled in order (FIFO groups rely on it).
 * At-least-once: handlers must be idempotent.
 */
export class ConsumerLoop {
  readonly #opts: ConsumerLoopOptions;
  readonly #consumer: SimpleConsumer;
  readonly #log: Logger;
  #running = false;
  #loop: Promise<void> | undefined;
  #busy: Promise<void> | undefined;

  constructor(opts: ConsumerLoopOptions) {
    this.#opts = opts;
    this.#log = opts.logger.child({ group: opts.group, topic: opts.topic });
    this.#consumer = new SimpleConsumer({
      endpoints: opts.endpoints,
      namespace: opts.namespace,
      requestTimeout: opts.requestTimeoutMs,
      consumerGroup: opts.group,
      awaitDuration: opts.awaitMs ?? 5000,
      subscriptions: new Map([[opts.topic, new FilterExpression(opts.filter ?? '*')]]),
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
    this.#loop = this.#run();
  }

  isRunning(): boolean {
    return this.#running;
  }

  /** Stops receiving, waits for the batch being handled, then shuts the client down. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    await this.#busy;
    await this.#consumer.shutdown();
    // The loop may be parked in a long-poll receive; its messages come back after their invisible time.
    void this.#loop;
  }

  async #run(): Promise<void> {
    const { batchSize = 16, invisibleMs = 30_000 } = this.#opts;
    while (this.#running) {
      let batch: MessageView[];
      try {
        batch = await this.#consumer.receive(batchSize, invisibleMs);
      } catch (err) {
        if (!this.#running) return;
        // No message within the long-poll window surfaces as an error in some client versions.
        if (!/no new message|MESSAGE_NOT_FOUND|40401/i.test(String((err as Error)?.message))) {
          this.#log.warn({ err }, 'receive failed; retrying in 1 s');
          await sleep(1000);
        }
        continue;
      }
      if (!this.#running) return; // left unacked: redelivered after the invisible time
      this.#busy = this.#handleBatch(batch);
      await this.#busy;
      this.#busy = undefined;
    }
  }

  async #handleBatch(batch: MessageView[]): Promise<void> {
    for (const view of batch) await this.#handleOne(view);
  }

  async #handleOne(view: MessageView): Promise<void> {
    const { consumed, duration } = mqMetrics(this.#opts.metrics);
    const labels = { topic: this.#opts.topic, group: this.#opts.group };
    const attempt = view.deliveryAttempt ?? 1;
    const end = duration.startTimer(labels);
    try {
      const envelope = decodeEnvelope(view.body);
      const meta = {
        messageId: view.messageId,
        topic: view.topic,
        tag: view.tag,
        keys: view.keys,
        messageGroup: view.messageGroup,
        deliveryAttempt: attempt,
        bornAt: view.bornTimestamp,
      };
      await inSpan(
        this.#opts.tracer ?? trace.getTracer('qianfan-order'),
        `consume ${view.topic}`,
        {
          kind: SpanKind.CONSUMER,
          carrier: envelope.trace,
          attributes: {
            'messaging.destination.name': view.topic,
            'messaging.message.id': view.messageId,
            'messaging.consumer.group.name': this.#opts.group,
          },
        },
        () => this.#opts.handler(envelope, meta),
      );
      await this.#consumer.ack(view);
      consumed.inc({ ...labels, result: 'ok' });
    } catch (err) {
      const malformed = err instanceof MalformedMessageError;
      consumed.inc({ ...labels, result: malformed ? 'malformed' : 'retry' });
      const delay = (this.#opts.backoffMs ?? defaultBackoff)(attempt);
      this.#log.warn({ err, messageId: view.messageId, attempt, retryInMs: delay }, 'message handling failed');
      await this.#consumer
        .changeInvisibleDuration(view, delay)
        .catch((e: unknown) => this.#log.warn({ err: e, messageId: view.messageId }, 'could not set the retry delay'));
    } finally {
      end();
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
