import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { cachedListPage } from './list-cache.js';
import { getItemsOf, type OrderItemRow, type OrderRow, listOrders as query } from './repository.js';
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
  /** A buyer's own list: their hidden orders left out (`exclude`) or listed alone (`only`). */
  hidden?: 'exclude' | 'only';
  limit?: number;
}

export interface OrderPage {
  orders: OrderRow[];
  /** The items of the page's orders (so every order is returned whole). */
  items: OrderItemRow[];
  nextCursor: string | null;
}

/**
 * Newest first, cursor-paginated by id (stable under inserts), bounded page size; items in one more query.
 * A user's own pages come from the list cache (internal/order/list-cache.ts).
 */
export async function listOrders(ctx: ServiceContext, input: ListOrdersInput): Promise<OrderPage> {
  const limit = input.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new AppError('VALIDATION_FAILED', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  if (input.createdFrom && input.createdTo && input.createdFrom > input.createdTo) {
    throw new AppError('VALIDATION_FAILED', 'createdFrom is after createdTo');
  }
  const beforeId = input.cursor === undefined ? undefined : decodeCursor(input.cursor);
  const load = () => loadPage(ctx, input, beforeId, limit);
  // A user's own lists are cached (apps poll them); operators' searches across users are not.
  if (input.userId === undefined) return load();
  const query = JSON.stringify([input.status, input.createdFrom, input.createdTo, input.cursor, limit, input.hidden]);
  return cachedListPage(ctx, input.userId, query, load);
}

async function loadPage(
  ctx: ServiceContext,
  input: ListOrdersInput,
  beforeId: bigint | undefined,
  limit: number,
): Promise<OrderPage> {
  const rows = await query(ctx.db, { ...input, beforeId, limit: limit + 1 });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const items = await getItemsOf(
    ctx.db,
    page.map((o) => o.id),
  );
  return { orders: page, items, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}

export const encodeCursor = (id: bigint) => Buffer.from(`o:${id}`).toString('base64url');

export function decodeCursor(cursor: string): bigint {
  const m = /^o:(\d{1,20})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m?.[1]) throw new AppError('VALIDATION_FAILED', 'cursor is not one this service issued');
  return BigInt(m[1]);
}

/** A page's items grouped by order id. */
export function itemsByOrder(items: OrderItemRow[]): Map<bigint, OrderItemRow[]> {
  const byOrder = new Map<bigint, OrderItemRow[]>();
  for (const i of items) {
    const list = byOrder.get(i.orderId);
    if (list) list.push(i);
    else byOrder.set(i.orderId, [i]);
  }
  return byOrder;
}
