import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, id, ts, updatedAt } from './columns.js';

/**
 * Checkpoints of operator backfills (`qianfan-order backfill`): a killed run resumes after `last_id`.
 * status: RUNNING | DONE.
 */
export const backfillRuns = mysqlTable('backfill_runs', {
  name: varchar('name', { length: 64 }).primaryKey(),
  status: varchar('status', { length: 16 }).notNull(),
  lastId: id('last_id').notNull(),
  processed: int('processed').notNull().default(0),
  findings: int('findings').notNull().default(0),
  finishedAt: ts('finished_at'),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});
