export { type ContextOptions, createServiceContext, type ServiceContext } from './context.js';
export { type Db, openDatabase, type Pool } from './db.js';
export { type Running, runProcess } from './lifecycle.js';
