import { markRedisFailed, redisBypassed } from '../cache/index.js';
import { AppError, rejectInvalidText } from '../errorx/index.js';
import { requestHash } from '../idempotency/index.js';
import type { AddressSnapshot } from '../model/index.js';
import { validateAddress } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { saleKeys, ticketIdOf } from './keys.js';
import type { QueuedTicket } from './messages.js';
import { SALE_LIMITS, type TicketState } from './rules.js';
import { PURCHASE } from './scripts.js';

export interface PurchaseInput {
  saleId: bigint;
  userId: bigint;
  quantity: number;
  address: AddressSnapshot;
  idempotencyKey: string;
  /** Hands a queued ticket to the process's batcher (which sends it to flashsale_ticket). */
  enqueue: (saleId: string, ticket: QueuedTicket) => Promise<void>;
  /** False while this process's ticket batches do not reach the broker (SendGate): refused before admission. */
  admitting?: () => boolean;
}

export interface PurchaseResult {
  ticketId: string;
  status: 'QUEUED';
  replayed: boolean;
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/**
 * A buyer's purchase: admission in one Redis Lua script (window, remaining stock, the buyer's limit,
 * deduction, ticket record, idempotency key), then the ticket goes to the batcher. No database access.
 * Refusals: FLASH_SALE_NOT_FOUND, FLASH_SALE_NOT_ACTIVE, PURCHASE_LIMIT_REACHED, SOLD_OUT, and
 * DEPENDENCY_UNAVAILABLE while Redis fails or this process's tickets do not reach the broker.
 */
export async function purchase(ctx: ServiceContext, input: PurchaseInput): Promise<PurchaseResult> {
  const counter = serviceMetrics(ctx.metrics).flashSalePurchases;
  try {
    const r = await admit(ctx, input);
    counter.inc({ outcome: r.replayed ? 'REPLAYED' : 'QUEUED' });
    return r;
  } catch (err) {
    counter.inc({ outcome: err instanceof AppError ? err.code : 'INTERNAL' });
    throw err;
  }
}

async function admit(ctx: ServiceContext, input: PurchaseInput): Promise<PurchaseResult> {
  if (!Number.isInteger(input.quantity) || input.quantity < 1 || input.quantity > SALE_LIMITS.maxQuantity) {
    throw new AppError('VALIDATION_FAILED', `quantity must be 1 to ${SALE_LIMITS.maxQuantity}`);
  }
  validateAddress(input.address);
  rejectInvalidText(input.address, 'address');
  if (!/^[\w.:-]{8,128}$/.test(input.idempotencyKey)) {
    throw new AppError('VALIDATION_FAILED', 'idempotency key must be 8-128 characters of letters, digits, _ . : -');
  }
  if (input.admitting && !input.admitting()) {
    throw new AppError(
      'DEPENDENCY_UNAVAILABLE',
      'flash-sale purchases are paused: tickets cannot reach the message broker right now; retry with the same Idempotency-Key',
    );
  }
  const now = Date.now();
  const seq = ctx.ids.next().toString();
  const userId = input.userId.toString();
  const ticket: TicketState = {
    userId,
    quantity: input.quantity,
    status: 'QUEUED',
    address: input.address,
    queuedAt: now,
  };
  const k = saleKeys(input.saleId);
  const [code, got] = (await runAdmission(ctx.redis, k.stock, () =>
    PURCHASE.run(
      ctx.redis,
      [k.meta, k.stock, k.users, k.tickets, k.queued, k.idem(userId, input.idempotencyKey)],
      [
        now,
        userId,
        input.quantity,
        seq,
        JSON.stringify(ticket),
        requestHash({ saleId: String(input.saleId), quantity: input.quantity, address: input.address }),
        IDEMPOTENCY_TTL_SECONDS,
      ],
    ),
  )) as [number, string?];
  switch (code) {
    case 1:
      await input.enqueue(String(input.saleId), {
        seq,
        userId,
        quantity: input.quantity,
        address: input.address as unknown as Record<string, unknown>,
        queuedAt: now,
      });
      return { ticketId: ticketIdOf(input.saleId, seq), status: 'QUEUED', replayed: false };
    case 2:
      return { ticketId: ticketIdOf(input.saleId, got!), status: 'QUEUED', replayed: true };
    case -1:
      throw new AppError('FLASH_SALE_NOT_FOUND', `flash sale ${input.saleId} not found`);
    case -2:
      throw new AppError('FLASH_SALE_NOT_ACTIVE', 'the flash sale is not open now (see startsAt / endsAt)');
    case -3:
      throw new AppError('PURCHASE_LIMIT_REACHED', 'this buyer already holds the most units this sale allows');
    case -4:
      throw new AppError('SOLD_OUT', 'the flash sale is sold out');
    default:
      throw new AppError(
        'IDEMPOTENCY_KEY_REUSED',
        'this idempotency key was used with a different request; use a new key',
      );
  }
}

/**
 * The admission script, with Redis failures (down, or slower than redis.commandTimeoutMs) answered as
 * DEPENDENCY_UNAVAILABLE (503 + Retry-After); on a cluster, only for sales on the master that failed. A script that timed out may still have run: a retry with
 * the same Idempotency-Key replays its ticket, and flashsale-requeue sends a ticket whose send was lost.
 */
async function runAdmission<T>(redis: object, key: string, run: () => Promise<T>): Promise<T> {
  const unavailable = (cause?: unknown) =>
    new AppError(
      'DEPENDENCY_UNAVAILABLE',
      'flash-sale admission is unavailable right now; retry with the same Idempotency-Key',
      undefined,
      { cause },
    );
  // Redis failed a moment ago: answer at once rather than after another command timeout.
  if (redisBypassed(redis, key)) throw unavailable();
  try {
    return await run();
  } catch (err) {
    markRedisFailed(redis, key);
    throw unavailable(err);
  }
}
