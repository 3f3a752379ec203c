export { DEAD_LETTER_PROPERTY, recordDeadLetter, resolveIfReplayed } from './record.js';
export { MAX_AUTO_REDRIVES, MONEY_TOPICS, redriveDeadLetters } from './redrive.js';
export { type ReplayInput, type ReplayResult, replayDeadLetters } from './replay.js';
export {
  countOpenDeadLetters,
  type DeadLetterFilter,
  type DeadLetterRow,
  type DeadLetterStatus,
  listDeadLetters,
} from './repository.js';
