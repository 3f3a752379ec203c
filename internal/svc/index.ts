export { type ContextOptions, createServiceContext, requireMq, type ServiceContext } from './context.js';
export { type Db, openDatabase, type Pool } from './db.js';
export { type Running, runProcess } from './lifecycle.js';
export { goneFromThisHost, type ProcessId, thisProcess } from './process-id.js';
export { openSubscriber, type RedisClient } from './redis.js';
export { type RequestDeadline, requestDeadline, requestMsLeft, withRequestDeadline } from './request-deadline.js';
export { CLAIM_TTL_MS, claimWorkerId, WorkerIdTaken } from './worker-claim.js';
