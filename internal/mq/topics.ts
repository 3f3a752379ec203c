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

export interface GroupDef {
  name: string;
  topic: string;
  orderly: boolean;
}

/** Consumer groups of this service's consumer process. FIFO topics need orderly groups. */
export const consumerGroups = {
  payment: { name: 'qianfan-order-payment', topic: topics.paymentNotify.name, orderly: true },
  delivery: { name: 'qianfan-order-delivery', topic: topics.deliveryNotify.name, orderly: true },
  timeout: { name: 'qianfan-order-timeout', topic: topics.orderTimeout.name, orderly: false },
  flashsale: { name: 'qianfan-order-flashsale', topic: topics.flashsaleTicket.name, orderly: false },
} as const satisfies Record<string, GroupDef>;

/** Topics and groups that exist only for the test suite's broker round trips. */
export const testTopics = {
  normal: { name: 'qf_test_normal', type: 'NORMAL' },
  fifo: { name: 'qf_test_fifo', type: 'FIFO' },
  delay: { name: 'qf_test_delay', type: 'DELAY' },
  tx: { name: 'qf_test_tx', type: 'TRANSACTION' },
} as const satisfies Record<string, TopicDef>;

export const testGroups = {
  normal: { name: 'qf-test-normal', topic: testTopics.normal.name, orderly: false },
  fifo: { name: 'qf-test-fifo', topic: testTopics.fifo.name, orderly: true },
  delay: { name: 'qf-test-delay', topic: testTopics.delay.name, orderly: false },
  tx: { name: 'qf-test-tx', topic: testTopics.tx.name, orderly: false },
} as const satisfies Record<string, GroupDef>;
