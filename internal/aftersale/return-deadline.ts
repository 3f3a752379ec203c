import { z } from 'zod';
import { AppError } from '../errorx/index.js';
import { idString } from '../ids/index.js';
import { newEnvelope, topics } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { type AfterSaleRow, getAfterSale } from './repository.js';
import { transitionAfterSale } from './transition.js';

/** Type (and tag) of the order_timeout message that closes an approved return not sent back in time. */
export const RETURN_DEADLINE_TYPE = 'aftersale.return_deadline';

/** When an approved return must have been sent back: its approval (the row's last change) plus order.returnShipDays. */
export const returnDueAt = (ctx: ServiceContext, a: Pick<AfterSaleRow, 'updatedAt'>): Date =>
  new Date(a.updatedAt.getTime() + ctx.config.order.returnShipDays * 86_400_000);

const waitsForReturn = (a: AfterSaleRow) => a.status === 'APPROVED' && a.kind === 'RETURN_AND_REFUND';

/**
 * Schedules the return deadline of an approved return: an order_timeout message at the deadline, or, when
 * that is further ahead than the broker delays a message (rocketmq.maxDelaySeconds), at that horizon; the
 * message then schedules the next hop (expireReturnIfDue). Best effort: the close-stale-after-sales job is
 * the backstop.
 */
export async function scheduleReturnDeadline(ctx: ServiceContext, a: AfterSaleRow, now = new Date()): Promise<void> {
  const horizon = now.getTime() + ctx.config.rocketmq.maxDelaySeconds * 1000;
  await requireMq(ctx).send({
    topic: topics.orderTimeout.name,
    envelope: newEnvelope(RETURN_DEADLINE_TYPE, { afterSaleId: a.id.toString() }),
    key: a.id.toString(),
    deliverAt: new Date(Math.min(returnDueAt(ctx, a).getTime(), horizon)),
  });
}

/** After an approval committed: a return waits for the buyer's parcel, so its deadline is scheduled. */
export async function afterReturnApproved(ctx: ServiceContext, a: AfterSaleRow): Promise<void> {
  if (!waitsForReturn(a)) return;
  await scheduleReturnDeadline(ctx, a).catch((err: unknown) =>
    ctx.logger.warn(
      { err, afterSaleId: String(a.id) },
      'could not schedule the return deadline; the close-stale-after-sales job closes it',
    ),
  );
}

/**
 * Closes an approved return not sent back by its deadline (APPROVED -> CLOSED, event `expire`); the units
 * are free for another request. False when it is no longer waiting (shipped back, withdrawn, closed).
 */
export async function expireReturn(ctx: ServiceContext, afterSaleId: bigint, by: string): Promise<boolean> {
  const res = await transitionAfterSale(ctx, {
    afterSaleId,
    events: ['expire'],
    actor: { type: 'SYSTEM', id: by },
    reason: `return not sent back within ${ctx.config.order.returnShipDays} days`,
  }).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'AFTER_SALE_STATE_CONFLICT') return { changed: false };
    throw err;
  });
  return res.changed;
}

const deadlineMessage = z.object({ afterSaleId: idString.transform((s) => BigInt(s)) });

/** Data of an aftersale.return_deadline message; anything else is VALIDATION_FAILED (parked by the consumer). */
export function parseReturnDeadline(data: unknown): { afterSaleId: bigint } {
  const r = deadlineMessage.safeParse(data);
  if (!r.success) {
    throw new AppError('VALIDATION_FAILED', `return deadline message is invalid: ${r.error.issues[0]?.message}`, {
      field: r.error.issues[0]?.path.join('.'),
    });
  }
  return r.data;
}

/**
 * A return deadline message arrived: closes the return when its deadline has passed, schedules the next
 * hop when it has not (a deadline beyond the broker's delay horizon), and does nothing when the return is
 * no longer waiting for the buyer's parcel.
 */
export async function expireReturnIfDue(
  ctx: ServiceContext,
  afterSaleId: bigint,
  now = new Date(),
): Promise<'expired' | 'rescheduled' | 'settled'> {
  const a = await getAfterSale(ctx.db, afterSaleId);
  if (!a || !waitsForReturn(a)) return 'settled';
  if (returnDueAt(ctx, a) > now) {
    await scheduleReturnDeadline(ctx, a, now);
    return 'rescheduled';
  }
  return (await expireReturn(ctx, a.id, 'return_deadline')) ? 'expired' : 'settled';
}
