import { type MessageView, Producer } from 'rocketmq-client-nodejs';
import type { Logger } from '../telemetry/index.js';
import { clientLogger } from './client-logger.js';
import { type Envelope, encodeEnvelope } from './envelope.js';
import { startClient } from './start-client.js';

/** TransactionResolution values of the RocketMQ v2 protocol (the enum is not exported by the client's index). */
export const TxResolution = { UNKNOWN: 0, COMMIT: 1, ROLLBACK: 2 } as const;
export type TxResolutionValue = (typeof TxResolution)[keyof typeof TxResolution];

/** Answers the broker's check-back for a half message whose producer never said commit or rollback. */
export type TxChecker = (message: {
  eventId: string | undefined;
  topic: string;
  bornAt: Date | undefined;
}) => Promise<TxResolutionValue>;

export interface ProducerOptions {
  endpoints: string;
  namespace: string;
  requestTimeoutMs: number;
  startupTimeoutMs: number;
  /** Topics to publish to; transaction check-backs only arrive for topics listed here. */
  topics: string[];
  checker?: TxChecker;
  logger: Logger;
}

export interface OutgoingMessage {
  topic: string;
  envelope: Envelope;
  key?: string;
  tag?: string;
  /** FIFO topics: messages with the same group are delivered in send order. */
  messageGroup?: string;
  /** DELAY topics: not delivered before this time. */
  deliverAt?: Date;
}

export interface SentMessage {
  messageId: string;
}

/** The service's RocketMQ producer: normal, FIFO, delay and transaction messages with the event envelope. */
export class MqProducer {
  readonly #producer: Producer;
  readonly #opts: ProducerOptions;

  constructor(opts: ProducerOptions) {
    this.#opts = opts;
    const checker = opts.checker;
    this.#producer = new Producer({
      endpoints: opts.endpoints,
      namespace: opts.namespace,
      requestTimeout: opts.requestTimeoutMs,
      topics: opts.topics,
      logger: clientLogger(opts.logger),
      checker: checker && {
        check: async (view: MessageView) =>
          (await checker({
            eventId: view.properties.get('event_id'),
            topic: view.topic,
            bornAt: view.bornTimestamp,
          })) as never,
      },
    });
  }

  async start(): Promise<void> {
    await startClient('RocketMQ producer', this.#producer, this.#opts.endpoints, this.#opts.startupTimeoutMs);
  }

  isRunning(): boolean {
    return this.#producer.isRunning();
  }

  async send(msg: OutgoingMessage): Promise<SentMessage> {
    const receipt = await this.#producer.send(toOptions(msg));
    return { messageId: receipt.messageId };
  }

  /**
   * Transaction message: the half message is sent first, then `local` runs (it must write the
   * mq_tx_log row for the envelope's event id in its own DB transaction), then commit. If `local`
   * throws, rollback. If this process dies in between, the broker asks the checker later.
   */
  async sendInTransaction<T>(msg: OutgoingMessage, local: () => Promise<T>): Promise<T & SentMessage> {
    const tx = this.#producer.beginTransaction();
    const receipt = await this.#producer.send(toOptions(msg), tx);
    let result: T;
    try {
      result = await local();
    } catch (err) {
      await tx
        .rollback()
        .catch((rollbackErr: unknown) =>
          this.#opts.logger.warn(
            { err: rollbackErr, messageId: receipt.messageId },
            'rollback failed; the check-back will roll it back',
          ),
        );
      throw err;
    }
    await tx
      .commit()
      .catch((commitErr: unknown) =>
        this.#opts.logger.warn(
          { err: commitErr, messageId: receipt.messageId },
          'commit failed; the check-back will commit it',
        ),
      );
    return { ...result, messageId: receipt.messageId };
  }

  async close(): Promise<void> {
    if (this.#producer.isRunning()) await this.#producer.shutdown();
  }
}

function toOptions(msg: OutgoingMessage) {
  const properties = new Map<string, string>([
    ['event_id', msg.envelope.eventId],
    ['event_type', msg.envelope.type],
    ['schema_version', String(msg.envelope.schemaVersion)],
  ]);
  for (const [k, v] of Object.entries(msg.envelope.trace)) properties.set(k, v);
  return {
    topic: msg.topic,
    body: encodeEnvelope(msg.envelope),
    tag: msg.tag ?? msg.envelope.type,
    keys: msg.key ? [msg.key] : [],
    properties,
    ...(msg.messageGroup ? { messageGroup: msg.messageGroup } : {}),
    ...(msg.deliverAt ? { deliveryTimestamp: msg.deliverAt } : {}),
  };
}
