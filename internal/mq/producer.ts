import { type MessageView, Producer } from 'rocketmq-client-nodejs';
import { AppError } from '../errorx/index.js';
import type { Logger } from '../telemetry/index.js';
import { clientLogger } from './client-logger.js';
import { type Envelope, encodeEnvelope } from './envelope.js';
import { brokerNames } from './names.js';
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
  /** A prefix of every topic name (names.ts); empty for none. */
  namespace: string;
  requestTimeoutMs: number;
  startupTimeoutMs: number;
  /** Topics to publish to; transaction check-backs only arrive for topics listed here. */
  topics: string[];
  checker?: TxChecker;
  /**
   * Longest life of a transaction message's local transaction, counted from the half message: past it
   * the local transaction refuses to commit. The check-back rolls back only well after this bound.
   */
  localTxMaxMs?: number;
  logger: Logger;
}

/** Handed to a transaction message's local transaction. */
export interface LocalTx {
  /** When the local transaction must have committed (epoch ms). */
  deadline: number;
  /**
   * The last call inside the DB transaction, right before COMMIT: refuses (throws, so the DB rolls
   * back) once the deadline has passed, and marks that a COMMIT is about to be sent.
   */
  beforeCommit(): void;
}

export interface OutgoingMessage {
  topic: string;
  envelope: Envelope;
  key?: string;
  /** Several business keys (a batch's order ids); used instead of `key` when given. */
  keys?: string[];
  tag?: string;
  /** FIFO topics: messages with the same group are delivered in send order. */
  messageGroup?: string;
  /** DELAY topics: not delivered before this time. */
  deliverAt?: Date;
  /** Extra message properties (e.g. dead_letter_id on a replay). */
  properties?: Record<string, string>;
}

/** Default bound of a local transaction (see ProducerOptions.localTxMaxMs). */
export const DEFAULT_LOCAL_TX_MAX_MS = 10_000;

export interface SentMessage {
  messageId: string;
}

/** The service's RocketMQ producer: normal, FIFO, delay and transaction messages with the event envelope. */
export class MqProducer {
  readonly #producer: Producer;
  readonly #opts: ProducerOptions;
  readonly #names: ReturnType<typeof brokerNames>;

  constructor(opts: ProducerOptions) {
    this.#opts = opts;
    const names = brokerNames(opts.namespace);
    this.#names = names;
    const checker = opts.checker;
    this.#producer = new Producer({
      endpoints: opts.endpoints,
      namespace: '',
      requestTimeout: opts.requestTimeoutMs,
      topics: opts.topics.map(names.wrap),
      logger: clientLogger(opts.logger),
      checker: checker && {
        check: async (view: MessageView) =>
          (await checker({
            eventId: view.properties.get('event_id'),
            topic: names.unwrap(view.topic),
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
    const receipt = await this.#producer.send(toOptions(msg, this.#names.wrap));
    return { messageId: receipt.messageId };
  }

  /**
   * Transaction message: the half message is sent first, then `local` runs its DB transaction (which
   * must write the mq_tx_log row for the envelope's event id and call `beforeCommit()` last), then the
   * half message is committed.
   * - `local` failed before COMMIT was sent: the DB rolled back, so the half message is rolled back.
   * - COMMIT was sent but its outcome is unknown (connection lost): nothing is rolled back; the broker's
   *   check-back decides from the tx-log row, which exists exactly when the DB committed.
   * - this process dies anywhere in between: the check-back decides the same way.
   * The local transaction refuses to commit after `localTxMaxMs`, so a check-back that finds no row
   * long after that bound may safely roll back.
   */
  async sendInTransaction<T>(
    msg: OutgoingMessage | OutgoingMessage[],
    local: (ltx: LocalTx) => Promise<T>,
  ): Promise<T & SentMessage> {
    const list = Array.isArray(msg) ? msg : [msg];
    const txs = list.map(() => this.#producer.beginTransaction());
    const startedAt = Date.now();
    const sent = await Promise.allSettled(
      list.map((m, i) => this.#producer.send(toOptions(m, this.#names.wrap), txs[i])),
    );
    const failed = sent.find((r) => r.status === 'rejected');
    if (failed) {
      await this.#settle(txs, sent, 'rollback');
      throw failed.reason;
    }
    const ids = sent.map((r) => (r as PromiseFulfilledResult<{ messageId: string }>).value.messageId);
    let commitSent = false;
    const deadline = startedAt + (this.#opts.localTxMaxMs ?? DEFAULT_LOCAL_TX_MAX_MS);
    const ltx: LocalTx = {
      deadline,
      beforeCommit() {
        if (Date.now() > deadline) {
          throw new AppError('DEPENDENCY_UNAVAILABLE', 'the database was too slow: the change was not made; retry', {
            localTxMs: Date.now() - startedAt,
          });
        }
        commitSent = true;
      },
    };
    let result: T;
    try {
      result = await local(ltx);
    } catch (err) {
      if (commitSent) {
        this.#opts.logger.warn(
          { err, messageIds: ids, eventIds: list.map((m) => m.envelope.eventId) },
          'COMMIT outcome unknown; the check-back decides from the tx-log',
        );
        throw err;
      }
      await this.#settle(txs, sent, 'rollback');
      throw err;
    }
    await this.#settle(txs, sent, 'commit');
    return { ...result, messageId: ids[0]! };
  }

  /** Commits or rolls back the half messages that were sent; a lost reply is left to the check-back. */
  async #settle(
    txs: Array<{ commit(): Promise<void>; rollback(): Promise<void> }>,
    sent: PromiseSettledResult<unknown>[],
    how: 'commit' | 'rollback',
  ) {
    await Promise.all(
      txs.map((tx, i) =>
        sent[i]?.status !== 'fulfilled'
          ? undefined
          : tx[how]().catch((err: unknown) =>
              this.#opts.logger.warn({ err }, `${how} failed; the check-back will ${how} it`),
            ),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.#producer.isRunning()) await this.#producer.shutdown();
  }
}

function toOptions(msg: OutgoingMessage, brokerName: (topic: string) => string) {
  const properties = new Map<string, string>([
    ['event_id', msg.envelope.eventId],
    ['event_type', msg.envelope.type],
    ['schema_version', String(msg.envelope.schemaVersion)],
  ]);
  for (const [k, v] of Object.entries(msg.envelope.trace)) properties.set(k, v);
  for (const [k, v] of Object.entries(msg.properties ?? {})) properties.set(k, v);
  return {
    topic: brokerName(msg.topic),
    body: encodeEnvelope(msg.envelope),
    tag: msg.tag ?? msg.envelope.type,
    keys: msg.keys ?? (msg.key ? [msg.key] : []),
    properties,
    ...(msg.messageGroup ? { messageGroup: msg.messageGroup } : {}),
    ...(msg.deliverAt ? { deliveryTimestamp: msg.deliverAt } : {}),
  };
}
