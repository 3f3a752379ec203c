import { AppError } from '../errorx/index.js';
import { getOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import {
  type AfterSaleLineRow,
  type AfterSaleLogRow,
  type AfterSaleRow,
  afterSalesOfOrder,
  getAfterSale,
  linesOf,
  listAfterSales,
  logOf,
} from './repository.js';
import type { AfterSaleStatus } from './rules.js';

export interface AfterSaleView {
  afterSale: AfterSaleRow;
  lines: AfterSaleLineRow[];
  log: AfterSaleLogRow[];
}

/** One after-sale with its lines and history; with `userId`, another user's is "not found". */
export async function readAfterSale(
  ctx: ServiceContext,
  input: { afterSaleId: bigint; userId?: bigint },
): Promise<AfterSaleView> {
  const a = await getAfterSale(ctx.db, input.afterSaleId);
  if (!a || (input.userId !== undefined && a.userId !== input.userId)) {
    throw new AppError('AFTER_SALE_NOT_FOUND', `after-sale ${input.afterSaleId} not found`);
  }
  const [lines, log] = await Promise.all([linesOf(ctx.db, [a.id]), logOf(ctx.db, a.id)]);
  return { afterSale: a, lines, log };
}

/** An order's after-sales, oldest first, each with its lines; with `userId`, another user's order is "not found". */
export async function afterSalesOfOrderView(ctx: ServiceContext, input: { orderId: bigint; userId?: bigint }) {
  const order = await getOrder(ctx.db, input.orderId);
  if (!order || (input.userId !== undefined && order.userId !== input.userId)) {
    throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
  }
  return withLines(ctx, await afterSalesOfOrder(ctx.db, input.orderId));
}

/** The merchant's queue: one page, newest first, optionally of one status; `nextCursor` while more may follow. */
export async function listAfterSalePage(
  ctx: ServiceContext,
  input: { status?: AfterSaleStatus; cursor?: bigint; limit: number },
) {
  const rows = await listAfterSales(ctx.db, { status: input.status, beforeId: input.cursor, limit: input.limit + 1 });
  const page = rows.slice(0, input.limit);
  return {
    items: await withLines(ctx, page),
    nextCursor: rows.length > input.limit ? page.at(-1)!.id.toString() : null,
  };
}

async function withLines(ctx: ServiceContext, rows: AfterSaleRow[]) {
  const lines = await linesOf(
    ctx.db,
    rows.map((a) => a.id),
  );
  return rows.map((a) => ({ afterSale: a, lines: lines.filter((l) => l.afterSaleId === a.id) }));
}
