import { AppError } from '../errorx/index.js';

export const SALE_LIMITS = { maxStock: 1_000_000, maxPerUser: 100, maxQuantity: 100 } as const;

export interface SaleSpec {
  skuId: bigint;
  price: number;
  stock: number;
  perUserLimit: number;
  startsAt: Date;
  endsAt: Date;
}

/** Checks a new sale (pure). */
export function validateSale(s: SaleSpec, now: Date): void {
  const fail = (message: string) => {
    throw new AppError('VALIDATION_FAILED', message);
  };
  if (!Number.isSafeInteger(s.price) || s.price <= 0) fail('price must be a positive integer (fen)');
  if (!Number.isInteger(s.stock) || s.stock < 1 || s.stock > SALE_LIMITS.maxStock)
    fail(`stock must be 1 to ${SALE_LIMITS.maxStock}`);
  if (!Number.isInteger(s.perUserLimit) || s.perUserLimit < 1 || s.perUserLimit > SALE_LIMITS.maxPerUser)
    fail(`perUserLimit must be 1 to ${SALE_LIMITS.maxPerUser}`);
  if (Number.isNaN(s.startsAt.getTime()) || Number.isNaN(s.endsAt.getTime())) fail('startsAt and endsAt must be times');
  if (s.endsAt <= s.startsAt) fail('endsAt must be after startsAt');
  if (s.endsAt <= now) fail('endsAt is in the past');
}

/** What a buyer's ticket says, in Redis and through the API. */
export interface TicketState {
  userId: string;
  quantity: number;
  status: 'QUEUED' | 'ORDERED' | 'FAILED';
  orderId?: string;
  failureReason?: string;
  /** Kept while QUEUED so a lost batch can be sent again. */
  address?: unknown;
  queuedAt: number;
}
