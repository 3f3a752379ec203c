import { AppError, rejectInvalidText } from '../errorx/index.js';
import type { AddressSnapshot } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { commitWithEvent, type Seal } from './commit-with-event.js';
import { afterOrdersCreated, newOrderRows, type OrderSource } from './new-order.js';
import {
  findSkus,
  insertOrders,
  type OrderItemRow,
  type OrderRow,
  pendingOfUser,
  reserveStocks,
} from './repository.js';
import { priceLines } from './rules.js';

export const LIMITS = { maxLines: 50, maxQuantity: 999, maxNote: 500 } as const;

export interface CreateOrderInput {
  userId: bigint;
  items: Array<{ skuId: bigint; quantity: number }>;
  address: AddressSnapshot;
  note?: string;
  source?: OrderSource;
  /** Stores the caller's idempotent answer in the order's own transaction. */
  seal?: Seal<CreatedOrder>;
}

export interface CreatedOrder {
  order: OrderRow;
  items: OrderItemRow[];
}

/**
 * Creates an order: prices and titles from the SKU table, one line per SKU (a repeated SKU is refused,
 * so each SKU's whole quantity is checked at once), stock reserved by conditional UPDATE, totals in fen,
 * payment deadline from config. Publishes order.created (transaction message) and schedules the
 * order_timeout delay message. Nothing is written unless everything is.
 */
export async function createOrder(ctx: ServiceContext, input: CreateOrderInput): Promise<CreatedOrder> {
  if (input.address?.postcode === '') {
    const { postcode: _none, ...rest } = input.address;
    input = { ...input, address: rest };
  }
  validate(input);
  await withinPendingCaps(ctx, input);
  // Locking SKU rows in id order means two orders over the same SKUs never deadlock.
  const lines = [...input.items].sort((a, b) => (a.skuId < b.skuId ? -1 : 1));
  const found = await findSkus(
    ctx.db,
    lines.map((l) => l.skuId),
  );
  const byId = new Map(found.map((s) => [s.id, s]));
  const unknown = lines.filter((l) => !byId.has(l.skuId) || byId.get(l.skuId)?.status !== 'ON_SALE');
  if (unknown.length) {
    throw new AppError('SKU_NOT_FOUND', `unknown or unavailable SKU(s): ${unknown.map((l) => l.skuId).join(', ')}`, {
      skuIds: unknown.map((l) => l.skuId.toString()),
    });
  }
  const currencies = new Set(found.map((s) => s.currency));
  if (currencies.size > 1) throw new AppError('VALIDATION_FAILED', 'all SKUs of one order must share a currency');
  const { lines: priced, itemsAmount } = priceLines(lines, byId);

  const created = newOrderRows(ctx, {
    userId: input.userId,
    lines: priced,
    itemsAmount,
    currency: found[0]!.currency,
    address: input.address,
    note: input.note,
    source: input.source ?? 'APP',
    actor: { type: 'USER', id: input.userId.toString() },
    now: new Date(),
  });
  const result: CreatedOrder = { order: created.order, items: created.items };
  try {
    await commitWithEvent(
      ctx,
      created.message,
      async (tx) => {
        await insertOrders(tx, [created]);
        return result;
      },
      input.seal,
      // Every order of a popular SKU updates its row: reserve last, in one statement, so the lock is held
      // only for that statement and the COMMIT.
      async (tx) => {
        if (!(await reserveStocks(tx, lines))) throw new AppError('INSUFFICIENT_STOCK', 'not enough stock');
      },
    );
  } catch (err) {
    if (err instanceof AppError && err.code === 'INSUFFICIENT_STOCK') throw await shortOfStock(ctx, lines);
    throw err;
  }
  await afterOrdersCreated(ctx, [created.order]);
  return result;
}

/**
 * One buyer may not hold more than order.maxPendingOrdersPerUser unpaid orders, nor reserve more than
 * order.maxPendingUnitsPerUser units in them, so one account cannot hold a SKU's stock for the payment
 * timeout. Checked before the order's transaction: creates of one buyer that run at the same moment
 * can pass it together (by at most the requests in flight, which the per-user rate limit bounds).
 */
async function withinPendingCaps(ctx: ServiceContext, input: CreateOrderInput): Promise<void> {
  const { maxPendingOrdersPerUser, maxPendingUnitsPerUser } = ctx.config.order;
  const held = await pendingOfUser(ctx.db, input.userId);
  const units = input.items.reduce((n, i) => n + i.quantity, 0);
  if (held.orders + 1 > maxPendingOrdersPerUser) {
    throw new AppError(
      'TOO_MANY_PENDING_ORDERS',
      `this buyer already has ${held.orders} unpaid orders (at most ${maxPendingOrdersPerUser}); pay or cancel one first`,
      { pendingOrders: held.orders, limit: maxPendingOrdersPerUser },
    );
  }
  if (held.units + units > maxPendingUnitsPerUser) {
    throw new AppError(
      'TOO_MANY_PENDING_ORDERS',
      `unpaid orders would hold ${held.units + units} units (at most ${maxPendingUnitsPerUser}); pay or cancel one first`,
      { pendingUnits: held.units, limit: maxPendingUnitsPerUser },
    );
  }
}

/** After a refused reservation (rolled back): which SKU lacks stock now, for the error's details. */
async function shortOfStock(ctx: ServiceContext, lines: Array<{ skuId: bigint; quantity: number }>) {
  const now = await findSkus(
    ctx.db,
    lines.map((l) => l.skuId),
  );
  const short = lines.find((l) => {
    const sku = now.find((s) => s.id === l.skuId);
    return sku?.status !== 'ON_SALE' || sku.available < l.quantity;
  });
  const skuId = (short ?? lines[0]!).skuId;
  return new AppError('INSUFFICIENT_STOCK', `not enough stock for SKU ${skuId}`, { skuId: skuId.toString() });
}

function validate(input: CreateOrderInput): void {
  const fail = (message: string, details?: Record<string, unknown>): never => {
    throw new AppError('VALIDATION_FAILED', message, details);
  };
  if (input.items.length === 0) fail('an order needs at least one item');
  if (input.items.length > LIMITS.maxLines) fail(`at most ${LIMITS.maxLines} items per order`);
  for (const [i, it] of input.items.entries()) {
    if (!Number.isInteger(it.quantity) || it.quantity < 1 || it.quantity > LIMITS.maxQuantity) {
      fail(`items[${i}].quantity must be an integer from 1 to ${LIMITS.maxQuantity}`, { index: i });
    }
  }
  const seen = new Set<bigint>();
  for (const [i, it] of input.items.entries()) {
    if (seen.has(it.skuId))
      fail(`items[${i}] repeats SKU ${it.skuId}: list each SKU once with its total quantity`, { index: i });
    seen.add(it.skuId);
  }
  if ((input.note ?? '').length > LIMITS.maxNote) fail(`note is longer than ${LIMITS.maxNote} characters`);
  validateAddress(input.address, fail);
  rejectInvalidText({ address: input.address, note: input.note }, 'order');
}

/** The address rules every transport applies (HTTP's schema says the same; gRPC relies on this). */
export function validateAddress(
  a: AddressSnapshot | undefined,
  fail: (message: string) => never = (message) => {
    throw new AppError('VALIDATION_FAILED', message);
  },
): void {
  if (!a || typeof a !== 'object') fail('address is required');
  const text = (field: keyof AddressSnapshot, max: number) => {
    const v = a[field];
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) {
      fail(`address.${field} must be 1 to ${max} characters`);
    }
  };
  text('name', 50);
  text('province', 50);
  text('city', 50);
  text('district', 50);
  text('detail', 200);
  if (typeof a.phone !== 'string' || !/^\+?[0-9 -]{5,20}$/.test(a.phone)) fail('address.phone must be 5 to 20 digits');
  if (a.postcode !== undefined && !/^\d{6}$/.test(a.postcode)) fail('address.postcode must be 6 digits');
}
