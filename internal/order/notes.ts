import { asc, eq } from 'drizzle-orm';
import { AppError, rejectInvalidText } from '../errorx/index.js';
import { orderNotes, selectSql } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { getOrder } from './repository.js';

export type OrderNoteRow = typeof orderNotes.$inferSelect;

/** Most notes one order keeps: a note is for people, and a thread longer than this is a ticket elsewhere. */
export const MAX_NOTES_PER_ORDER = 200;

/**
 * Staff add an internal note to an order (append-only: never edited or deleted, each with its author and
 * time, which is its audit trail). Never part of the buyer's view. The body is 1-2000 characters.
 */
export async function addOrderNote(
  ctx: ServiceContext,
  input: { orderId: bigint; authorId: string; body: string },
): Promise<OrderNoteRow> {
  const body = input.body.trim();
  if (body.length < 1 || body.length > 2000) throw new AppError('VALIDATION_FAILED', 'a note is 1 to 2000 characters');
  rejectInvalidText(body, 'body');
  const row: OrderNoteRow = {
    id: ctx.ids.next(),
    orderId: input.orderId,
    authorId: input.authorId,
    body,
    createdAt: new Date(),
  };
  // The order row is locked while the notes are counted: two notes at once cannot pass the cap together.
  await ctx.db.transaction(async (tx) => {
    const [order] = await selectSql<{ id: string }>(tx, 'SELECT id FROM orders WHERE id = ? FOR UPDATE', [
      input.orderId,
    ]);
    if (!order) throw new AppError('ORDER_NOT_FOUND', `order ${input.orderId} not found`);
    const [count] = await selectSql<{ n: string | number }>(
      tx,
      'SELECT COUNT(*) AS n FROM order_notes WHERE order_id = ?',
      [input.orderId],
    );
    if (Number(count?.n ?? 0) >= MAX_NOTES_PER_ORDER) {
      throw new AppError('VALIDATION_FAILED', `order ${input.orderId} has ${MAX_NOTES_PER_ORDER} notes already`);
    }
    await tx.insert(orderNotes).values(row);
  });
  ctx.logger.info({ orderId: String(row.orderId), noteId: String(row.id), authorId: row.authorId }, 'order note added');
  return row;
}

/** An order's notes, oldest first; ORDER_NOT_FOUND for an order that does not exist. */
export async function listOrderNotes(ctx: ServiceContext, orderId: bigint): Promise<OrderNoteRow[]> {
  if (!(await getOrder(ctx.db, orderId))) throw new AppError('ORDER_NOT_FOUND', `order ${orderId} not found`);
  return ctx.db
    .select()
    .from(orderNotes)
    .where(eq(orderNotes.orderId, orderId))
    .orderBy(asc(orderNotes.id))
    .limit(MAX_NOTES_PER_ORDER);
}
