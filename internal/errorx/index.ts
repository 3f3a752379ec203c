export {
  AppError,
  appErrorIn,
  causeChain,
  type ErrorDetails,
  isAppError,
  isOutage,
  toAppError,
} from './app-error.js';
export { type ErrorCode, type ErrorKind, errorCodes } from './codes.js';
export { isDuplicateKey, isRetryableLock, mysqlErrorCode } from './db-errors.js';
export { withDeadline } from './deadline.js';
export { rejectInvalidText } from './text.js';
