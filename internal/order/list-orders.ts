import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type OrderRow, listOrders as query } from './repository.js';
import type { OrderStatus } from './rules.js';

export const MAX_PAGE_SIZE = 100;

export interface ListOrdersInput {
  /** Required for users; admins may search across users by leaving it out. */
  userId?: bigint;
  status?: OrderStatus;
  createdFrom?: Date;
  createdTo?: Date;
  /** Opaque cursor from the previous page. */
  cursor?: string;
  limit?: number;
}

export interface OrderPage {
  orders: OrderRow[];
  nextCursor: string | null;
}

/** Newest first, cursor-paginated by id (stable under inserts), bounded page size. */
export async function listOrders(ctx: ServiceContext, input: ListOrdersInput): Promise<OrderPage> {
  const limit = input.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new AppError('VALIDATION_FAILED', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  if (input.createdFrom && input.createdTo && input.createdFrom > input.createdTo) {
    throw new AppError('VALIDATION_FAILED', 'createdFrom is after createdTo');
  }
  const beforeId = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
  const rows = await query(ctx.db, { ...input, beforeId, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { orders: page, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

const encodeCursor = (id: bigint) => Buffer.from(`o:${id}`).toString('base64url');

function decodeCursor(cursor: string): bigint {
  const m = /^o:(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m?.[1]) throw new AppError('VALIDATION_FAILED', 'cursor is not one this service issued');
  return BigInt(m[1]);
}
