import type { MySqlTransaction } from 'drizzle-orm/mysql-core';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import type * as schema from './tables.js';

/** The drizzle database of the service (mysql2 pool + every table). */
export type Db = MySql2Database<typeof schema>;

/** A database handle or an open transaction: every repository query runs on either. */
// biome-ignore lint/suspicious/noExplicitAny: drizzle's transaction generics are not worth spelling out here
export type Tx = Db | MySqlTransaction<any, any, any, any>;

/** Rows changed by an UPDATE or DELETE (mysql2's ResultSetHeader behind drizzle's result tuple). */
export const affectedRows = (r: unknown): number => (r as [{ affectedRows: number }])[0].affectedRows;
