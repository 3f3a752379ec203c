export { ConsumerLoop, type ConsumerLoopOptions, type MessageHandler, type MessageMeta } from './consumer.js';
export { decodeEnvelope, type Envelope, MalformedMessageError, newEnvelope, SCHEMA_VERSION } from './envelope.js';
export { MqProducer, type OutgoingMessage, type ProducerOptions, type TxChecker, TxResolution } from './producer.js';
export {
  consumerGroups,
  type GroupDef,
  type MessageType,
  type TopicDef,
  testGroups,
  testTopics,
  topics,
} from './topics.js';
export { ROLLBACK_AFTER_MS, txLogChecker } from './tx-checker.js';
