import { AppError, rejectInvalidText } from '../errorx/index.js';
import type { AddressSnapshot } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { type Actor, changeOrder, type TransitionResult } from './change.js';
import type { Seal } from './commit-with-event.js';
import { validateAddress } from './create-order.js';
import type { OrderRow } from './repository.js';
import type { OrderStatus } from './rules.js';

/** Event types of changes that keep the order's status (docs/events.md). */
export const AMENDMENT_EVENTS = {
  addressChanged: 'order.address_changed',
  priceAdjusted: 'order.price_adjusted',
  // Parcels (internal/delivery): one more sent, one delivered or lost while the order's status stays.
  parcelShipped: 'order.parcel_shipped',
  parcelDelivered: 'order.parcel_delivered',
  parcelLost: 'order.parcel_lost',
} as const;

/** Statuses in which the receiver's address may still change: nothing has shipped. */
export const ADDRESS_CHANGEABLE: readonly OrderStatus[] = ['PENDING_PAYMENT', 'PAID'];

/** Largest shipping fee or discount an adjustment may set (fen): ¥10,000,000. */
const MAX_ADJUST = 1_000_000_000;

interface AmendInput {
  orderId: bigint;
  actor: Actor;
  /** Why, for the status history (1-200 characters). */
  reason: string;
  seal?: Seal<TransitionResult>;
}

/**
 * Changes the receiver's address before anything ships (PENDING_PAYMENT or PAID): the order's version
 * moves on, its history gets a line (same status, "address changed: ..."), and `order.address_changed`
 * is published with the change, like a transition.
 */
export function changeOrderAddress(
  ctx: ServiceContext,
  input: AmendInput & { address: AddressSnapshot },
): Promise<TransitionResult> {
  validateAddress(input.address);
  for (const v of Object.values(input.address)) if (typeof v === 'string') rejectInvalidText(v, 'address');
  return amendOrder(ctx, input, {
    allowed: ADDRESS_CHANGEABLE,
    eventType: AMENDMENT_EVENTS.addressChanged,
    what: 'change the address of',
    change: () => ({ set: { address: input.address }, note: 'address changed' }),
  });
}

/**
 * Adjusts an unpaid order's price (PENDING_PAYMENT, before its deadline): a new shipping fee and/or
 * discount, total = items + shipping - discount, at least 1 fen. Published as `order.price_adjusted`;
 * payment attempts opened for the old total are closed at their provider by the payment-close consumer,
 * and one paid anyway is refunded in full (its amount is not the order's total).
 */
export function adjustOrderPrice(
  ctx: ServiceContext,
  input: AmendInput & { shippingFee?: number; discountAmount?: number },
): Promise<TransitionResult> {
  for (const [field, v] of [
    ['shippingFee', input.shippingFee],
    ['discountAmount', input.discountAmount],
  ] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0 || v > MAX_ADJUST)) {
      throw new AppError('VALIDATION_FAILED', `${field} must be a whole number of fen from 0 to ${MAX_ADJUST}`, {
        field,
      });
    }
  }
  if (input.shippingFee === undefined && input.discountAmount === undefined) {
    throw new AppError('VALIDATION_FAILED', 'give shippingFee, discountAmount or both');
  }
  return amendOrder(ctx, input, {
    allowed: ['PENDING_PAYMENT'],
    eventType: AMENDMENT_EVENTS.priceAdjusted,
    what: 'adjust the price of',
    change: (o) => {
      if (o.payDeadline <= new Date()) {
        throw new AppError('ORDER_STATE_CONFLICT', 'the payment deadline has passed; the order is closing', {
          currentStatus: o.status,
        });
      }
      const shippingFee = input.shippingFee ?? o.shippingFee;
      const discountAmount = input.discountAmount ?? o.discountAmount;
      const totalAmount = o.itemsAmount + shippingFee - discountAmount;
      if (totalAmount < 1) {
        throw new AppError(
          'VALIDATION_FAILED',
          `the total would be ${totalAmount} fen (items ${o.itemsAmount} + shipping ${shippingFee} - discount ${discountAmount}); it must be at least 1`,
        );
      }
      return {
        set: { shippingFee, discountAmount, totalAmount },
        note: `price adjusted: total ${o.totalAmount} -> ${totalAmount}`,
      };
    },
  });
}

/**
 * A change of an order that keeps its status: a new version with a history line from the status to itself
 * and the event, one order change (changeOrder) like a transition. Nothing to change (a retry of a change
 * that committed, say) is no new version and no event.
 */
async function amendOrder(
  ctx: ServiceContext,
  input: AmendInput,
  how: {
    allowed: readonly OrderStatus[];
    eventType: string;
    what: string;
    change: (o: OrderRow) => { set: Partial<OrderRow>; note: string };
  },
): Promise<TransitionResult> {
  const reason = input.reason.trim();
  if (reason.length < 1 || reason.length > 120)
    throw new AppError('VALIDATION_FAILED', 'reason must be 1 to 120 characters');
  rejectInvalidText(reason, 'reason');
  const result = await changeOrder(ctx, {
    orderId: input.orderId,
    actor: input.actor,
    reason,
    seal: input.seal,
    plan: (order) => {
      const status = order.status as OrderStatus;
      if (!how.allowed.includes(status)) {
        throw new AppError('ORDER_STATE_CONFLICT', `cannot ${how.what} an order that is ${status}`, {
          currentStatus: status,
        });
      }
      const { set, note } = how.change(order);
      const same = Object.entries(set).every(
        ([k, v]) => JSON.stringify(v) === JSON.stringify(order[k as keyof OrderRow]),
      );
      if (same) return { kind: 'noop' };
      return { kind: 'move', to: status, type: how.eventType, set, reason: `${note} (${reason})` };
    },
  });
  if (result.changed) {
    ctx.logger.info(
      {
        orderId: String(input.orderId),
        version: result.order.version,
        actor: input.actor,
        change: how.eventType,
        reason,
      },
      'order amended',
    );
  }
  return result;
}
