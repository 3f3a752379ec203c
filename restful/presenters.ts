import type { Static } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import {
  buyerTimeline,
  itemsByOrder,
  type ListOrdersInput,
  type OrderDetail,
  type OrderItemRow,
  type OrderNoteRow,
  type OrderPage,
  type OrderRow,
  type OrderSearch,
  type OrderStatus,
} from '../internal/order/index.js';
import type { ListQuery, SummaryQuery } from './schemas.js';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/**
 * The one representation of an order (schema `Order`) that every route returning an order uses:
 * ids as strings, money in fen, times in ISO 8601 UTC, items included.
 */
export function orderJson(o: OrderRow, items: OrderItemRow[]) {
  return {
    id: o.id.toString(),
    orderNo: o.orderNo,
    userId: o.userId.toString(),
    status: o.status as OrderStatus,
    currency: o.currency,
    itemsAmount: o.itemsAmount,
    shippingFee: o.shippingFee,
    discountAmount: o.discountAmount,
    totalAmount: o.totalAmount,
    paidAmount: o.paidAmount,
    refundedAmount: o.refundedAmount,
    address: o.address,
    note: o.note,
    source: o.source,
    version: o.version,
    payDeadline: o.payDeadline.toISOString(),
    paidAt: iso(o.paidAt),
    shippedAt: iso(o.shippedAt),
    deliveredAt: iso(o.deliveredAt),
    completedAt: iso(o.completedAt),
    cancelledAt: iso(o.cancelledAt),
    cancelReason: o.cancelReason,
    createdAt: o.createdAt.toISOString(),
    items: items.map((i) => ({
      id: i.id.toString(),
      skuId: i.skuId.toString(),
      title: i.title,
      unitPrice: i.unitPrice,
      quantity: i.quantity,
      lineTotal: i.lineTotal,
    })),
  };
}

const rendered = new WeakMap<OrderDetail, string>();

/** The whole order as its buyer sees it: staff are not named in the timeline. */
export function wholeOrderJson(detail: OrderDetail) {
  const { payments, refunds, shipments, timeline, afterSales = [] } = detail.extras;
  return {
    ...orderJson(detail.order, detail.items),
    payments,
    refunds,
    shipments,
    timeline: buyerTimeline(timeline),
    afterSales,
  };
}

/** The whole order as staff see it: who acted, and the internal notes. */
export function adminOrderJson(detail: OrderDetail, notes: OrderNoteRow[]) {
  return {
    ...orderJson(detail.order, detail.items),
    ...detail.extras,
    afterSales: detail.extras.afterSales ?? [],
    notes: notes.map(noteJson),
  };
}

/** An internal note (schema `OrderNote`). */
export const noteJson = (n: OrderNoteRow) => ({
  id: String(n.id),
  orderId: String(n.orderId),
  authorId: n.authorId,
  body: n.body,
  createdAt: n.createdAt.toISOString(),
});

/**
 * The buyer's detail route body, serialized by the route's response schema. The order cache hands out
 * the same frozen object while an order is unchanged, so its JSON is built once per revision and process.
 */
export function orderBody(reply: FastifyReply, detail: OrderDetail): string {
  let body = rendered.get(detail);
  if (body === undefined) {
    body = reply.serialize(wholeOrderJson(detail)) as string;
    rendered.set(detail, body);
  }
  reply.type('application/json; charset=utf-8');
  return body;
}

/** A list query string as use-case input; `userId` scopes it (users: themselves; admins: optional filter). */
export function listInput(q: Static<typeof ListQuery>, userId: bigint | undefined): ListOrdersInput {
  return {
    userId,
    status: q.status,
    createdFrom: q.createdFrom ? new Date(q.createdFrom) : undefined,
    createdTo: q.createdTo ? new Date(q.createdTo) : undefined,
    cursor: q.cursor,
    limit: q.limit === undefined ? undefined : Number(q.limit),
  };
}

/** An admin search's filters from the query string (validated by SummaryQuery's patterns). */
export function searchInput(q: Static<typeof SummaryQuery>): OrderSearch {
  const date = (v: string | undefined) => (v === undefined ? undefined : new Date(v));
  const int = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const id = (v: string | undefined) => (v === undefined ? undefined : BigInt(v));
  return {
    orderNo: q.orderNo,
    userId: id(q.userId),
    phoneLast4: q.phoneLast4,
    skuId: id(q.skuId),
    status: q.status,
    paymentStatus: q.paymentStatus as OrderSearch['paymentStatus'],
    source: q.source as OrderSearch['source'],
    createdFrom: date(q.createdFrom),
    createdTo: date(q.createdTo),
    paidFrom: date(q.paidFrom),
    paidTo: date(q.paidTo),
    amountMin: int(q.amountMin),
    amountMax: int(q.amountMax),
  };
}

const renderedPages = new WeakMap<OrderPage, string>();

/** A list route's body; like `orderBody`, built once per cached page and process. */
export function pageBody(reply: FastifyReply, page: OrderPage): string {
  let body = renderedPages.get(page);
  if (body === undefined) {
    body = reply.serialize(pageJson(page)) as string;
    renderedPages.set(page, body);
  }
  reply.type('application/json; charset=utf-8');
  return body;
}

export function pageJson(page: OrderPage) {
  const byOrder = itemsByOrder(page.items);
  return { orders: page.orders.map((o) => orderJson(o, byOrder.get(o.id) ?? [])), nextCursor: page.nextCursor };
}
