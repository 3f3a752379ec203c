import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inArray } from 'drizzle-orm';
import fc from 'fast-check';
import { confirmReceipt, markDelivered, shipOrder } from '../internal/delivery/index.js';
import { AppError } from '../internal/errorx/index.js';
import { orderColumns, orderItems, orders, payments, refunds } from '../internal/model/index.js';
import { cancelOrder, createOrder } from '../internal/order/index.js';
import {
  applyPaymentResult,
  completeRefund,
  refundsOfOrder,
  requestRefund,
  startPayment,
} from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, stockOf } from './helpers/orders.js';

type Op =
  | { op: 'create'; sku: number; qty: number }
  | { op: 'pay' | 'cancel' | 'ship' | 'deliver' | 'confirm' | 'refund' | 'confirmRefund' | 'payTwice'; order: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('create' as const), sku: fc.nat(2), qty: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      op: fc.constantFrom(
        'pay',
        'cancel',
        'ship',
        'deliver',
        'confirm',
        'refund',
        'confirmRefund',
        'payTwice' as const,
      ),
      order: fc.nat(9),
    }),
  },
);

const INITIAL = 10;
let nextUser = BigInt(Date.now()) * 1000n + 900_000n;

// Random operation sequences against the real database: whatever happens, the invariants hold.
describe('invariants under random operation sequences (fast-check, real MariaDB + RocketMQ)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
  });
  after(async () => ctx?.close());

  it('stock is conserved and never negative; one kept payment per order; paid = kept + refunded', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 30 }), async (ops) => {
        const skuIds = await makeSkus(
          ctx,
          [0, 1, 2].map(() => ({ price: 250, available: INITIAL })),
        );
        const created: bigint[] = [];
        const userId = ++nextUser;
        const actor = { type: 'USER' as const, id: String(userId) };
        const admin = { type: 'ADMIN' as const, id: '1' };
        const pay = async (orderId: bigint) => {
          const { payment } = await startPayment(ctx, { orderId, userId });
          await applyPaymentResult(ctx, {
            paymentId: payment.id,
            status: 'SUCCEEDED',
            amount: payment.amount,
            currency: 'CNY',
            providerTxnId: 'p',
          });
          return payment;
        };
        for (const o of ops) {
          try {
            if (o.op === 'create') {
              created.push(
                (await createOrder(ctx, { userId, items: [{ skuId: skuIds[o.sku]!, quantity: o.qty }], address })).order
                  .id,
              );
              continue;
            }
            const id = created[o.order % Math.max(1, created.length)];
            if (id === undefined) continue;
            if (o.op === 'pay') await pay(id);
            if (o.op === 'payTwice') {
              const a = await startPayment(ctx, { orderId: id, userId });
              const b = await startPayment(ctx, { orderId: id, userId });
              await Promise.all(
                [a, b].map(({ payment }) =>
                  applyPaymentResult(ctx, {
                    paymentId: payment.id,
                    status: 'SUCCEEDED',
                    amount: payment.amount,
                    currency: 'CNY',
                    providerTxnId: 'q',
                  }),
                ),
              );
            }
            if (o.op === 'cancel') await cancelOrder(ctx, { orderId: id, reason: 'USER', actor, userId });
            if (o.op === 'ship')
              await shipOrder(ctx, { orderId: id, carrier: 'SF', trackingNo: `T${id}`, actor: admin });
            if (o.op === 'deliver') await markDelivered(ctx, { orderId: id, actor: admin });
            if (o.op === 'confirm') await confirmReceipt(ctx, { orderId: id, userId, actor });
            if (o.op === 'refund') await requestRefund(ctx, { orderId: id, userId, actor, reason: 'test' });
            if (o.op === 'confirmRefund') {
              for (const r of await refundsOfOrder(ctx.db, id))
                await completeRefund(ctx, { refundId: r.id, amount: r.amount });
            }
          } catch (err) {
            // Refusals are expected (illegal transitions, no stock, not payable); anything else is a bug.
            if (!(err instanceof AppError) || err.kind === 'internal') throw err;
          }
        }
        for (const sku of skuIds) {
          const s = await stockOf(ctx, sku);
          assert.ok(s.available >= 0 && s.reserved >= 0 && s.sold >= 0, JSON.stringify(s));
          assert.equal(s.available + s.reserved + s.sold, INITIAL, JSON.stringify(s));
        }
        if (created.length === 0) return;
        const ps = await ctx.db.select().from(payments).where(inArray(payments.orderId, created));
        const os = await ctx.db.select(orderColumns).from(orders).where(inArray(orders.id, created));
        const rs = await ctx.db.select().from(refunds).where(inArray(refunds.orderId, created));
        for (const id of created) assert.ok(ps.filter((p) => p.succeededOrderId === id).length <= 1);
        const paid = ps
          .filter((p) => p.status === 'SUCCEEDED' || p.status === 'REFUNDED')
          .reduce((a, p) => a + p.amount, 0);
        const kept = os
          .filter((o) => ['PAID', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'COMPLETED'].includes(o.status))
          .reduce((a, o) => a + o.paidAmount, 0);
        const refunded = rs.reduce((a, r) => a + r.amount, 0);
        assert.equal(paid, kept + refunded, `paid ${paid} != kept ${kept} + refunded ${refunded}`);
        // Each SKU's reserved and sold are exactly what its orders hold.
        const items = await ctx.db.select().from(orderItems).where(inArray(orderItems.orderId, created));
        for (const sku of skuIds) {
          let reserved = 0;
          let sold = 0;
          for (const it of items.filter((i) => i.skuId === sku)) {
            const o = os.find((x) => x.id === it.orderId)!;
            const restocked = rs.some((r) => r.orderId === o.id && r.restock);
            if (o.status === 'PENDING_PAYMENT') reserved += it.quantity;
            else if (['PAID', 'PARTIALLY_SHIPPED', 'SHIPPED', 'DELIVERED', 'COMPLETED'].includes(o.status))
              sold += it.quantity;
            else if (['REFUNDING', 'REFUNDED'].includes(o.status) && !restocked) sold += it.quantity;
          }
          const s = await stockOf(ctx, sku);
          assert.deepEqual([s.reserved, s.sold], [reserved, sold], `SKU ${sku}`);
        }
      }),
      { numRuns: 12 },
    );
  });
});
