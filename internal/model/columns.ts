import { sql } from 'drizzle-orm';
import { bigint, datetime } from 'drizzle-orm/mysql-core';

/** 64-bit time-ordered id (see internal/ids). Read and written as a JS bigint; serialized as a string. */
export const id = (name: string) => bigint(name, { mode: 'bigint', unsigned: true });
/** Money in integer minor units (fen). JS number, always a safe integer; never a float. */
export const money = (name: string) => bigint(name, { mode: 'number' });
/** UTC timestamp with milliseconds. */
export const ts = (name: string) => datetime(name, { mode: 'date', fsp: 3 });
export const createdAt = () => ts('created_at').notNull().default(sql`CURRENT_TIMESTAMP(3)`);
export const updatedAt = () =>
  ts('updated_at')
    .notNull()
    .default(sql`CURRENT_TIMESTAMP(3)`)
    .$onUpdate(() => new Date());
