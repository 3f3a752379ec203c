export { Batcher, type BatcherOptions } from './batcher.js';
export {
  ConsumerLoop,
  type ConsumerLoopOptions,
  defaultBackoff,
  type MessageHandler,
  type MessageMeta,
  type ParkedMessage,
} from './consumer.js';
export {
  decodeEnvelope,
  type Envelope,
  MalformedMessageError,
  NewerSchemaError,
  newEnvelope,
  SCHEMA_VERSION,
} from './envelope.js';
export { classifyFailure, describeFailure, type FailureClass, RetryLaterError } from './failures.js';
export { brokerNames } from './names.js';
export {
  DEFAULT_LOCAL_TX_MAX_MS,
  type LocalTx,
  MqProducer,
  type OutgoingMessage,
  type ProducerOptions,
  type TxChecker,
  TxResolution,
} from './producer.js';
export {
  consumerGroups,
  dlqReaderOf,
  dlqTopicOf,
  type GroupDef,
  type MessageType,
  retryBackoff,
  type TopicDef,
  testGroups,
  testTopics,
  topics,
} from './topics.js';
export { txLogChecker } from './tx-checker.js';
