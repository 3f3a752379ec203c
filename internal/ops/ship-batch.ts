import { inArray } from 'drizzle-orm';
import { SHIPPABLE_STATUSES, shipmentProblem, shipOrder } from '../delivery/index.js';
import { AppError } from '../errorx/index.js';
import { orders, selectSql } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { splitCsvLine } from './import-skus.js';

export const SHIP_CSV_HEADER = ['order_id', 'carrier', 'tracking_no'] as const;

/** Most lines one file may hold: a larger batch is split by the operator. */
export const MAX_SHIP_LINES = 10_000;

export interface ShipLine {
  line: number;
  orderId: bigint;
  carrier: string;
  trackingNo: string;
  /** Already SHIPPED with this carrier and tracking number (an earlier run of the same file): skipped. */
  done: boolean;
}

export interface ShipCheck {
  lines: ShipLine[];
  /** Every bad line: its 1-based line number in the file and what is wrong. */
  errors: Array<{ line: number; message: string }>;
}

/**
 * Validates a whole tracking-number CSV (header `order_id,carrier,tracking_no`) before anything ships:
 * each line's fields, an order or a parcel listed twice, a parcel already recorded for another order,
 * and every order's state (PAID or PARTIALLY_SHIPPED: the line's parcel takes every unit left; or
 * already carrying the same parcel, which a re-run of the file skips). Reads only.
 */
export async function checkShipCsv(ctx: ServiceContext, text: string): Promise<ShipCheck> {
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const errors: ShipCheck['errors'] = [];
  const header = splitCsvLine(rows[0] ?? '').map((h) => h.trim());
  if (header.join(',') !== SHIP_CSV_HEADER.join(',')) {
    return { lines: [], errors: [{ line: 1, message: `the header must be exactly: ${SHIP_CSV_HEADER.join(',')}` }] };
  }
  if (rows.length - 1 > MAX_SHIP_LINES) {
    return { lines: [], errors: [{ line: MAX_SHIP_LINES + 2, message: `at most ${MAX_SHIP_LINES} lines per file` }] };
  }
  const lines: ShipLine[] = [];
  const seen = new Map<string, number>();
  const seenParcel = new Map<string, number>();
  for (const [i, raw] of rows.slice(1).entries()) {
    const n = i + 2;
    if (raw.trim() === '') continue;
    const f = splitCsvLine(raw).map((x) => x.trim());
    const [id = '', carrier = '', trackingNo = ''] = f;
    const problem =
      f.length !== SHIP_CSV_HEADER.length
        ? `expected ${SHIP_CSV_HEADER.length} fields, found ${f.length}`
        : !/^[1-9]\d{0,19}$/.test(id)
          ? `order_id '${id}' is not an order id`
          : seen.has(id)
            ? `order ${id} is listed twice (first on line ${seen.get(id)})`
            : shipmentProblem(carrier, trackingNo);
    const parcel = `${carrier} ${trackingNo}`;
    const twice = problem ? undefined : seenParcel.get(parcel);
    if (problem || twice)
      errors.push({ line: n, message: problem ?? `${parcel} is listed twice (first on line ${twice})` });
    else {
      seen.set(id, n);
      seenParcel.set(parcel, n);
      lines.push({ line: n, orderId: BigInt(id), carrier, trackingNo, done: false });
    }
  }
  // Every listed order's state, in chunks of 1,000 ids.
  for (let i = 0; i < lines.length; i += 1000) {
    const chunk = lines.slice(i, i + 1000);
    const ids = chunk.map((l) => l.orderId);
    const [found, taken] = await Promise.all([
      ctx.db.select({ id: orders.id, status: orders.status }).from(orders).where(inArray(orders.id, ids)),
      // The file's parcels already on record (carrier and tracking number are unique together).
      selectSql<{ order_id: string; carrier: string; tracking_no: string }>(
        ctx.db,
        'SELECT order_id, carrier, tracking_no FROM shipments WHERE (carrier, tracking_no) IN (?)',
        [chunk.map((l) => [l.carrier, l.trackingNo])],
      ),
    ]);
    const owner = new Map(taken.map((t) => [`${t.carrier} ${t.tracking_no}`, BigInt(t.order_id)]));
    const status = new Map(found.map((o) => [o.id, o.status]));
    for (const l of chunk) {
      const s = status.get(l.orderId);
      const usedBy = owner.get(`${l.carrier} ${l.trackingNo}`);
      const sameParcel = usedBy === l.orderId;
      if (s === undefined) errors.push({ line: l.line, message: `order ${l.orderId} does not exist` });
      else if (usedBy !== undefined && usedBy !== l.orderId)
        errors.push({ line: l.line, message: `${l.carrier} ${l.trackingNo} is already the parcel of order ${usedBy}` });
      else if (sameParcel) l.done = true;
      else if (!(SHIPPABLE_STATUSES as readonly string[]).includes(s))
        errors.push({
          line: l.line,
          message: `order ${l.orderId} is ${s}; only PAID or PARTIALLY_SHIPPED orders ship`,
        });
    }
  }
  errors.sort((a, b) => a.line - b.line);
  return { lines: errors.length > 0 ? [] : lines, errors };
}

export interface ShipBatchResult {
  shipped: number;
  /** Lines an earlier run shipped already. */
  skipped: number;
  /** Lines whose order changed between the check and its shipping (e.g. refunded meanwhile). */
  failed: Array<{ line: number; orderId: string; message: string }>;
}

/**
 * Ships the checked lines one order at a time (each its own transition and event). An order that changed
 * since the check fails alone and is reported; the others go on. Running the same file again ships
 * what is left.
 */
export async function shipBatch(
  ctx: ServiceContext,
  lines: ShipLine[],
  actorId: string,
  onProgress?: (done: number) => void,
): Promise<ShipBatchResult> {
  const out: ShipBatchResult = { shipped: 0, skipped: 0, failed: [] };
  for (const [i, l] of lines.entries()) {
    if (l.done) out.skipped += 1;
    else {
      try {
        await shipOrder(ctx, {
          orderId: l.orderId,
          carrier: l.carrier,
          trackingNo: l.trackingNo,
          actor: { type: 'ADMIN', id: actorId },
        });
        out.shipped += 1;
      } catch (err) {
        if (!(err instanceof AppError) || err.kind === 'internal') throw err;
        out.failed.push({ line: l.line, orderId: String(l.orderId), message: err.message });
      }
    }
    onProgress?.(i + 1);
  }
  return out;
}
