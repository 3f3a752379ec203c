import type { AddressSnapshot } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { itemsByOrder } from './list-orders.js';
import type { OrderItemRow, OrderRow } from './repository.js';
import { type OrderSearch, searchOrders } from './search-orders.js';

/** One row per order, or one per order line (the order's columns repeated). */
export type ExportShape = 'orders' | 'lines';

export interface ExportOptions {
  shape: ExportShape;
  /** Receiver phones in full; otherwise masked to the first 3 and last 4 digits. */
  fullPhones: boolean;
  /** Called after each page with the orders and rows written so far. */
  onProgress?: (orders: number, rows: number) => void;
}

const ORDER_COLUMNS = [
  'order_no',
  'order_id',
  'user_id',
  'status',
  'source',
  'currency',
  'items_amount',
  'shipping_fee',
  'discount_amount',
  'total_amount',
  'paid_amount',
  'refunded_amount',
  'created_at',
  'paid_at',
  'shipped_at',
  'delivered_at',
  'completed_at',
  'cancelled_at',
  'receiver_name',
  'receiver_phone',
  'province',
  'city',
  'district',
  'address_detail',
  'note',
];
const LINE_COLUMNS = ['line_id', 'sku_id', 'title', 'unit_price', 'quantity', 'line_total'];

/** Orders read per page: a page is at most this many orders and their items. */
const EXPORT_PAGE = 500;

/**
 * A search as CSV, in chunks (UTF-8 with a BOM, so spreadsheet programs read the Chinese text; CRLF line
 * ends, RFC 4180 quoting). Amounts are yuan with two decimals; times are ISO 8601 in UTC. Text that a
 * spreadsheet would run as a formula (= + - @ first) is prefixed with '. Pages are read one at a time by
 * id, newest first, so memory stays the same for any number of orders; an order changed while the export
 * runs appears once, as it was when its page was read.
 */
export async function* exportOrdersCsv(
  ctx: ServiceContext,
  filter: OrderSearch,
  opts: ExportOptions,
): AsyncGenerator<string> {
  const header = opts.shape === 'lines' ? [...ORDER_COLUMNS, ...LINE_COLUMNS] : ORDER_COLUMNS;
  yield `\uFEFF${header.join(',')}\r\n`;
  let cursor: string | undefined;
  let orders = 0;
  let rows = 0;
  do {
    const page = await searchOrders(ctx, filter, { cursor, limit: EXPORT_PAGE });
    const itemsOf = itemsByOrder(page.items);
    let chunk = '';
    for (const o of page.orders) {
      const cells = orderCells(o, opts.fullPhones);
      if (opts.shape === 'orders') {
        chunk += csvLine(cells);
        rows++;
      } else {
        for (const i of itemsOf.get(o.id) ?? []) {
          chunk += csvLine([...cells, ...lineCells(i)]);
          rows++;
        }
      }
    }
    orders += page.orders.length;
    if (chunk) yield chunk;
    opts.onProgress?.(orders, rows);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

function orderCells(o: OrderRow, fullPhones: boolean): string[] {
  const a = o.address as AddressSnapshot;
  return [
    o.orderNo,
    String(o.id),
    String(o.userId),
    o.status,
    o.source,
    o.currency,
    yuan(o.itemsAmount),
    yuan(o.shippingFee),
    yuan(o.discountAmount),
    yuan(o.totalAmount),
    yuan(o.paidAmount),
    yuan(o.refundedAmount),
    time(o.createdAt),
    time(o.paidAt),
    time(o.shippedAt),
    time(o.deliveredAt),
    time(o.completedAt),
    time(o.cancelledAt),
    text(a.name),
    fullPhones ? text(a.phone) : maskPhone(a.phone),
    text(a.province),
    text(a.city),
    text(a.district),
    text(a.detail),
    text(o.note),
  ];
}

const lineCells = (i: OrderItemRow) => [
  String(i.id),
  String(i.skuId),
  text(i.title),
  yuan(i.unitPrice),
  String(i.quantity),
  yuan(i.lineTotal),
];

/** Fen as yuan, exactly (integers only, no floating point). */
export function yuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const time = (d: Date | null) => (d ? d.toISOString() : '');

/** 13812345678 -> 138****5678; anything of 7 characters or fewer keeps only its last 4. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return `${'*'.repeat(Math.max(0, phone.length - 4))}${phone.slice(-4)}`;
  return `${phone.slice(0, 3)}${'*'.repeat(phone.length - 7)}${phone.slice(-4)}`;
}

/** Free text: a leading = + - @ (or tab, CR) would run as a formula in a spreadsheet; prefix it with '. */
export const text = (v: string | null | undefined) => {
  const s = v ?? '';
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
};

export function csvLine(cells: string[]): string {
  return `${cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(',')}\r\n`;
}
