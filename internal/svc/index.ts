export { type ContextOptions, createServiceContext, requireMq, type ServiceContext } from './context.js';
export { type Db, openDatabase, type Pool } from './db.js';
export { type Running, runProcess } from './lifecycle.js';
