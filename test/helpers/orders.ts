import { eq, inArray } from 'drizzle-orm';
import { orderColumns, orders, skus } from '../../internal/model/index.js';
import { applyPaymentResult, startPayment } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';

export const address = {
  name: 'Li Lei',
  phone: '13800000000',
  province: 'Zhejiang',
  city: 'Hangzhou',
  district: 'Xihu',
  detail: '1 Longjing Rd',
};

/** Fresh SKUs with their own ids, so tests never share stock. */
export async function makeSkus(
  ctx: ServiceContext,
  specs: Array<{ price: number; available: number; title?: string }>,
) {
  const rows = specs.map((s, i) => ({
    id: ctx.ids.next(),
    title: s.title ?? `test sku ${i}`,
    price: s.price,
    currency: 'CNY',
    available: s.available,
  }));
  await ctx.db.insert(skus).values(rows);
  return rows.map((r) => r.id);
}

export async function stockOf(ctx: ServiceContext, id: bigint) {
  const [row] = await ctx.db.select().from(skus).where(eq(skus.id, id));
  return { available: row!.available, reserved: row!.reserved, sold: row!.sold };
}

export async function ordersOfUser(ctx: ServiceContext, userId: bigint) {
  return ctx.db.select(orderColumns).from(orders).where(eq(orders.userId, userId));
}

export async function countOrdersForSkus(ctx: ServiceContext, userIds: bigint[]) {
  return (await ctx.db.select(orderColumns).from(orders).where(inArray(orders.userId, userIds))).length;
}

/**
 * Pays an order through the use cases (no HTTP, no consumer): `times` payment attempts all reported
 * SUCCEEDED at once; the first kept, the others refunded automatically as unkept.
 */
export async function payOrder(ctx: ServiceContext, orderId: bigint, userId: bigint, times = 1) {
  const started = [];
  for (let i = 0; i < times; i++) started.push((await startPayment(ctx, { orderId, userId })).payment);
  await Promise.all(
    started.map((p) =>
      applyPaymentResult(ctx, {
        paymentId: p.id,
        status: 'SUCCEEDED',
        amount: p.amount,
        currency: 'CNY',
        providerTxnId: `test-${p.id}`,
      }),
    ),
  );
  return started;
}
