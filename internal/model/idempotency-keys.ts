import { index, int, mediumtext, mysqlTable, primaryKey, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, ts } from './columns.js';

/**
 * Idempotency records for mutating requests (HTTP Idempotency-Key, gRPC request_id), per caller scope.
 * IN_FLIGHT until the first response is stored; kept until expires_at (at least 24 h).
 */
export const idempotencyKeys = mysqlTable(
  'idempotency_keys',
  {
    scope: varchar('scope', { length: 96 }).notNull(),
    key: varchar('idem_key', { length: 128 }).notNull(),
    requestHash: varchar('request_hash', { length: 64 }).notNull(),
    status: varchar('status', { length: 16 }).notNull(),
    /** The process that holds an IN_FLIGHT claim (internal/svc/process-id.ts), as JSON. */
    holder: varchar('holder', { length: 255 }),
    responseStatus: int('response_status'),
    responseBody: mediumtext('response_body'),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index('idx_idempotency_keys_expires').on(t.expiresAt)],
);
