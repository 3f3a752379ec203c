import type { OrderItemRow, OrderRow } from './repository.js';

const ORDER_DATES = [
  'payDeadline',
  'paidAt',
  'shippedAt',
  'deliveredAt',
  'completedAt',
  'cancelledAt',
  'createdAt',
  'updatedAt',
] as const;

// JSON has no bigint: the id columns are written as decimal strings and read back by name, so any other
// string (a note of "7n", say) comes back exactly as it went in. Dates go out as ISO strings.

export const orderToJson = (o: OrderRow) => ({ ...o, id: String(o.id), userId: String(o.userId) });

export const itemToJson = (i: OrderItemRow) => ({
  ...i,
  id: String(i.id),
  orderId: String(i.orderId),
  skuId: String(i.skuId),
});

export function orderFromJson(raw: Record<string, unknown>): OrderRow {
  const order: Record<string, unknown> = { ...raw, id: BigInt(raw.id as string), userId: BigInt(raw.userId as string) };
  for (const f of ORDER_DATES) if (typeof order[f] === 'string') order[f] = new Date(order[f] as string);
  return order as unknown as OrderRow;
}

export function itemFromJson(i: Record<string, unknown>): OrderItemRow {
  return {
    ...i,
    id: BigInt(i.id as string),
    orderId: BigInt(i.orderId as string),
    skuId: BigInt(i.skuId as string),
    createdAt: new Date(i.createdAt as string),
  } as unknown as OrderItemRow;
}
