/**
 * The messaging catalog. deploy/rocketmq/topics.tsv and groups.tsv create exactly these on the broker
 * (a test keeps them equal). Topic names and event types that other services consume are re-exported
 * from pkg/events.
 */
export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';

export interface TopicDef {
  name: string;
  type: MessageType;
}

export const topics = {
  orderEvent: { name: 'order_event', type: 'TRANSACTION' },
  paymentNotify: { name: 'payment_notify', type: 'FIFO' },
  deliveryNotify: { name: 'delivery_notify', type: 'FIFO' },
  orderTimeout: { name: 'order_timeout', type: 'DELAY' },
  flashsaleTicket: { name: 'flashsale_ticket', type: 'NORMAL' },
} as const satisfies Record<string, TopicDef>;

import { isOutage } from '../errorx/index.js';

export interface GroupDef {
  name: string;
  topic: string;
  orderly: boolean;
  /** The broker's retryMaxTimes for the group: after this many redeliveries it goes to %DLQ%<group>. */
  maxRetries: number;
  /**
   * The longest wait between two tries of a transiently failing message (the wait doubles from 1 s up
   * to this). With maxRetries it sets how long an outage the group rides out before the DLQ.
   */
  retryBackoffMaxMs: number;
  /** A DLQ reader copies the group's %DLQ% messages into the dead-letter table. */
  dlq: boolean;
  /**
   * How long a received message stays hidden from other consumers: how late it comes when the consumer
   * that took it dies without settling it (kill -9, an OOM kill). While a message is being handled its
   * invisible time is extended every third of this, so a long handler never hands it to another.
   * Shorter where someone waits on the message (a sale's buyers, a paid order), 30 s where nothing does.
   */
  invisibleMs: number;
}

/** Consumer groups of this service's consumer process. FIFO topics need orderly groups. */
export const consumerGroups = {
  // Payment and delivery results must ride out a real outage of MySQL or the broker (tens of minutes):
  // 24 tries, the wait doubling to 2 minutes, about 36 minutes before the DLQ.
  payment: {
    name: 'qianfan-order-payment',
    topic: topics.paymentNotify.name,
    orderly: true,
    maxRetries: 24,
    retryBackoffMaxMs: 120_000,
    dlq: true,
    // A dead consumer holds its messages, and the later results of their orders, this long.
    invisibleMs: 10_000,
  },
  delivery: {
    name: 'qianfan-order-delivery',
    topic: topics.deliveryNotify.name,
    orderly: true,
    maxRetries: 24,
    retryBackoffMaxMs: 120_000,
    dlq: true,
    invisibleMs: 10_000,
  },
  // A lost timeout is backed by the close-expired-orders job; a flash-sale ticket by flashsale-requeue.
  timeout: {
    name: 'qianfan-order-timeout',
    topic: topics.orderTimeout.name,
    orderly: false,
    maxRetries: 8,
    retryBackoffMaxMs: 10_000,
    dlq: true,
    invisibleMs: 30_000,
  },
  flashsale: {
    name: 'qianfan-order-flashsale',
    topic: topics.flashsaleTicket.name,
    orderly: false,
    maxRetries: 8,
    retryBackoffMaxMs: 10_000,
    dlq: true,
    // A dead consumer's tickets: the sale's orders come within 10 s of sell-out.
    invisibleMs: 3000,
  },
  /** Our own order.cancelled events: a cancelled flash-sale order gives its units back to the sale. */
  flashsaleReturns: {
    name: 'qianfan-order-flashsale-returns',
    topic: topics.orderEvent.name,
    orderly: false,
    maxRetries: 8,
    retryBackoffMaxMs: 10_000,
    dlq: true,
    invisibleMs: 30_000,
  },
  /** Our own order.cancelled events: the order's payments still open at their provider are closed there. */
  paymentClose: {
    name: 'qianfan-order-payment-close',
    topic: topics.orderEvent.name,
    orderly: false,
    maxRetries: 16,
    retryBackoffMaxMs: 120_000,
    dlq: true,
    invisibleMs: 30_000,
  },
} as const satisfies Record<string, GroupDef>;

/**
 * The wait before try n+1 (n is 1-based) of a group's transiently failing message: 1 s doubling. Up to
 * the group's cap when the failure is an outage (a dependency down or not answering), which may last
 * tens of minutes; up to 10 s for any other transient failure (a race, a conflict), which clears fast or
 * not at all, so that it does not hold its FIFO queue (and the other orders in it) for minutes.
 */
export const retryBackoff =
  (group: Pick<GroupDef, 'retryBackoffMaxMs'>) =>
  (attempt: number, err?: unknown): number => {
    const cap =
      err === undefined || isOutage(err) ? group.retryBackoffMaxMs : Math.min(group.retryBackoffMaxMs, 10_000);
    return Math.min(cap, 1000 * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  };

/** The broker's dead-letter topic of a consumer group. */
export const dlqTopicOf = (group: string) => `%DLQ%${group}`;
/** The consumer group that reads a group's dead-letter topic. */
export const dlqReaderOf = (group: string) => `${group}-dlq`;

/** Topics and groups that exist only for the test suite's broker round trips. */
export const testTopics = {
  normal: { name: 'qf_test_normal', type: 'NORMAL' },
  fifo: { name: 'qf_test_fifo', type: 'FIFO' },
  delay: { name: 'qf_test_delay', type: 'DELAY' },
  tx: { name: 'qf_test_tx', type: 'TRANSACTION' },
  retry: { name: 'qf_test_retry', type: 'FIFO' },
} as const satisfies Record<string, TopicDef>;

export const testGroups = {
  normal: {
    name: 'qf-test-normal',
    topic: testTopics.normal.name,
    orderly: false,
    maxRetries: 16,
    retryBackoffMaxMs: 10_000,
    dlq: false,
    invisibleMs: 10_000,
  },
  fifo: {
    name: 'qf-test-fifo',
    topic: testTopics.fifo.name,
    orderly: true,
    maxRetries: 16,
    retryBackoffMaxMs: 10_000,
    dlq: false,
    invisibleMs: 10_000,
  },
  delay: {
    name: 'qf-test-delay',
    topic: testTopics.delay.name,
    orderly: false,
    maxRetries: 16,
    retryBackoffMaxMs: 10_000,
    dlq: false,
    invisibleMs: 10_000,
  },
  tx: {
    name: 'qf-test-tx',
    topic: testTopics.tx.name,
    orderly: false,
    maxRetries: 16,
    retryBackoffMaxMs: 10_000,
    dlq: false,
    invisibleMs: 10_000,
  },
  /** The chaos suite's audit of order_event: every event the broker delivers, to check publication. */
  chaosAudit: {
    name: 'qf-test-chaos-audit',
    topic: topics.orderEvent.name,
    orderly: false,
    maxRetries: 16,
    retryBackoffMaxMs: 10_000,
    dlq: false,
    invisibleMs: 10_000,
  },
  /** test/flash-sale-batch.test.ts's audit of order_event: the events of one flash sale's orders. */
  flashAudit: {
    name: 'qf-test-flash-audit',
    topic: topics.orderEvent.name,
    orderly: false,
    maxRetries: 16,
    retryBackoffMaxMs: 10_000,
    dlq: false,
    invisibleMs: 10_000,
  },
  /** Gives up after one retry, so a test sees a message reach the DLQ (and the DLQ reader) quickly. */
  retry: {
    name: 'qf-test-retry',
    topic: testTopics.retry.name,
    orderly: true,
    maxRetries: 1,
    retryBackoffMaxMs: 10_000,
    dlq: true,
    invisibleMs: 10_000,
  },
} as const satisfies Record<string, GroupDef>;
