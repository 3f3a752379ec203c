import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { closeFullyRefunded } from '../internal/aftersale/index.js';
import { auditInvariants } from '../internal/audit/index.js';
import { signDevToken } from '../internal/auth/index.js';
import { autoConfirmReceipts, parseDeliveryUpdate } from '../internal/delivery/index.js';
import { executeSql, selectSql } from '../internal/model/index.js';
import { newEnvelope, topics } from '../internal/mq/index.js';
import { createOrder, getOrder } from '../internal/order/index.js';
import { applyPaymentResult, completeRefund, getRefund, startPayment } from '../internal/payment/index.js';
import { createServiceContext, requireMq, type ServiceContext } from '../internal/svc/index.js';
import { OrderStatus } from '../pkg/gen/qianfan/order/v1/order.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { startSubscription } from './helpers/consumers.js';
import { inProcessRpc } from './helpers/grpc.js';
import { jsonCaller, ownRedis } from './helpers/inject.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, stockOf } from './helpers/orders.js';
import { sleep, waitFor } from './helpers/wait.js';

let nextUser = BigInt(Date.now()) * 1000n + 730_000n;
// Many requests from 127.0.0.1: counted under this file's own Redis prefix (ownRedis).
const OWN_REDIS = ownRedis('shipments');

// Split shipments on the real stack: parcels of some units, delivery and loss per parcel, refunds of units
// not shipped, and the race between a refund and a parcel for the same units.
describe('split shipments: parcels, partial shipping, lost parcels (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let staff: string;
  before(async () => {
    ctx = await createServiceContext(testConfig(OWN_REDIS), { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
    staff = await tokenFor(++nextUser, ['admin']);
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const tokenFor = (userId: bigint, roles = ['user']) =>
    signDevToken(ctx.config.auth, { userId: String(userId), roles }, 600);
  const call = (...args: Parameters<ReturnType<typeof jsonCaller>>) => jsonCaller(app)(...args);

  /** A paid order of 3 × 1,000 fen (line A) and 1 × 2,000 fen (line B). */
  async function paidOrder() {
    const [a, b] = await makeSkus(ctx, [
      { price: 1000, available: 10 },
      { price: 2000, available: 10 },
    ]);
    const buyer = ++nextUser;
    const { order, items } = await createOrder(ctx, {
      userId: buyer,
      items: [
        { skuId: a!, quantity: 3 },
        { skuId: b!, quantity: 1 },
      ],
      address,
    });
    const { payment } = await startPayment(ctx, { orderId: order.id, userId: buyer });
    await applyPaymentResult(ctx, {
      paymentId: payment.id,
      status: 'SUCCEEDED',
      amount: payment.amount,
      currency: 'CNY',
      providerTxnId: `sp-${payment.id}`,
    });
    return {
      id: order.id,
      buyer,
      token: await tokenFor(buyer),
      skuA: a!,
      skuB: b!,
      lineA: items.find((i) => i.skuId === a)!.id.toString(),
      lineB: items.find((i) => i.skuId === b)!.id.toString(),
    };
  }
  const ship = (id: bigint, trackingNo: string, lines?: Array<{ orderItemId: string; quantity: number }>) =>
    call('POST', `/v1/admin/orders/${id}/ship`, staff, { carrier: 'SF', trackingNo, ...(lines ? { lines } : {}) });
  const parcelCount = async (id: bigint) =>
    Number(
      (await selectSql<{ n: number }>(ctx.db, 'SELECT COUNT(*) AS n FROM shipments WHERE order_id = ?', [id]))[0]!.n,
    );
  const eventTypes = async (id: bigint) =>
    (
      await selectSql<{ event_type: string }>(
        ctx.db,
        "SELECT event_type FROM mq_tx_log WHERE message_key = ? AND event_type LIKE 'order.%' ORDER BY id",
        [String(id)],
      )
    ).map((r) => r.event_type);
  const afterSalesOf = (id: bigint) =>
    selectSql<{ id: string }>(ctx.db, 'SELECT id FROM after_sales WHERE order_id = ?', [id]);
  async function auditClean(id: bigint) {
    const report = await auditInvariants(ctx, { afterOrderId: String(id - 1n), maxOrders: 1, settleMs: 0 });
    assert.deepEqual(
      report.findings.filter((f) => f.ids.some((x) => x.startsWith(String(id)))),
      [],
    );
  }
  /** The provider confirms an after-sale's refund. */
  async function confirmRefund(afterSale: { refundId: string | null }) {
    const refund = await getRefund(ctx.db, BigInt(afterSale.refundId!));
    assert.ok(refund?.providerRefundId, 'the refund was not sent to the provider');
    return completeRefund(ctx, { refundId: refund.id, amount: refund.amount });
  }

  it('ships in parcels: PARTIALLY_SHIPPED until every unit left, over-shipping refused with nothing written, delivery per parcel, DELIVERED when all arrived', async () => {
    const o = await paidOrder();
    const first = await ship(o.id, `P1${o.id}`, [{ orderItemId: o.lineA, quantity: 2 }]);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.status, 'PARTIALLY_SHIPPED');

    // More than is left of a line, a line of another order, a line twice: refused, nothing written.
    const over = await ship(o.id, `P2${o.id}`, [{ orderItemId: o.lineA, quantity: 2 }]);
    assert.equal(over.status, 409);
    assert.equal(over.body.code, 'SHIPMENT_UNITS_UNAVAILABLE');
    assert.equal(over.body.details.leftToShip, 1);
    const foreign = await ship(o.id, `P2${o.id}`, [{ orderItemId: '1', quantity: 1 }]);
    assert.equal(foreign.status, 400);
    const twice = await ship(o.id, `P2${o.id}`, [
      { orderItemId: o.lineB, quantity: 1 },
      { orderItemId: o.lineB, quantity: 1 },
    ]);
    assert.equal(twice.status, 400);
    assert.equal(await parcelCount(o.id), 1);
    // The same parcel again (a retried request, another key): nothing new.
    const again = await ship(o.id, `P1${o.id}`, [{ orderItemId: o.lineA, quantity: 2 }]);
    assert.equal(again.status, 200);
    assert.equal(again.body.version, first.body.version);
    assert.equal(await parcelCount(o.id), 1);

    // A second partial parcel keeps the status, with a version and an event of its own.
    const second = await ship(o.id, `P2${o.id}`, [{ orderItemId: o.lineB, quantity: 1 }]);
    assert.equal(second.body.status, 'PARTIALLY_SHIPPED');
    assert.equal(second.body.version, first.body.version + 1);
    // The last: no lines means every unit left.
    const last = await ship(o.id, `P3${o.id}`);
    assert.equal(last.status, 200, JSON.stringify(last.body));
    assert.equal(last.body.status, 'SHIPPED');
    assert.ok(last.body.shippedAt);
    assert.equal((await ship(o.id, `P4${o.id}`)).body.code, 'ORDER_STATE_CONFLICT');

    const whole = await call('GET', `/v1/orders/${o.id}`, o.token);
    assert.deepEqual(
      whole.body.shipments.map((s: any) => [s.trackingNo, s.status, s.items]),
      [
        [`P1${o.id}`, 'SHIPPED', [{ orderItemId: o.lineA, quantity: 2 }]],
        [`P2${o.id}`, 'SHIPPED', [{ orderItemId: o.lineB, quantity: 1 }]],
        [`P3${o.id}`, 'SHIPPED', [{ orderItemId: o.lineA, quantity: 1 }]],
      ],
    );

    // Delivery per parcel: the order is DELIVERED with the last one to arrive.
    const [p1, p2, p3] = whole.body.shipments.map((s: any) => s.id);
    const d1 = await call('POST', `/v1/admin/orders/${o.id}/shipments/${p1}/deliver`, staff);
    assert.equal(d1.body.status, 'SHIPPED');
    const d1again = await call('POST', `/v1/admin/orders/${o.id}/shipments/${p1}/deliver`, staff);
    assert.equal(d1again.body.version, d1.body.version);
    const missing = await call('POST', `/v1/admin/orders/${o.id}/shipments/${o.id}/deliver`, staff);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'SHIPMENT_NOT_FOUND');
    assert.equal(
      (await call('POST', `/v1/admin/orders/${o.id}/shipments/${p2}/deliver`, staff)).body.status,
      'SHIPPED',
    );
    const d3 = await call('POST', `/v1/admin/orders/${o.id}/shipments/${p3}/deliver`, staff);
    assert.equal(d3.body.status, 'DELIVERED');
    assert.ok(d3.body.deliveredAt);

    const read = await call('GET', `/v1/orders/${o.id}`, o.token);
    assert.deepEqual(
      read.body.timeline.map((t: any) => `${t.from}>${t.to}`),
      [
        '>PENDING_PAYMENT',
        'PENDING_PAYMENT>PAID',
        'PAID>PARTIALLY_SHIPPED',
        'PARTIALLY_SHIPPED>PARTIALLY_SHIPPED',
        'PARTIALLY_SHIPPED>SHIPPED',
        'SHIPPED>SHIPPED',
        'SHIPPED>SHIPPED',
        'SHIPPED>DELIVERED',
      ],
    );
    assert.deepEqual(await eventTypes(o.id), [
      'order.created',
      'order.paid',
      'order.partially_shipped',
      'order.parcel_shipped',
      'order.shipped',
      'order.parcel_delivered',
      'order.parcel_delivered',
      'order.delivered',
    ]);
    await auditClean(o.id);
  });

  it('refund of units not shipped: refund-only only, at most what is left; they never ship, go back to stock once, and their refund completes the shipping', async () => {
    const o = await paidOrder();
    await ship(o.id, `R1${o.id}`, [{ orderItemId: o.lineA, quantity: 1 }]);
    const ask = (kind: string, lines: Array<{ orderItemId: string; quantity: number }>) =>
      call('POST', `/v1/orders/${o.id}/after-sales`, o.token, { kind, reason: 'no longer needed', lines });
    const ret = await ask('RETURN_AND_REFUND', [{ orderItemId: o.lineB, quantity: 1 }]);
    assert.equal(ret.status, 409);
    assert.equal(ret.body.code, 'ORDER_STATE_CONFLICT');
    const tooMany = await ask('REFUND_ONLY', [{ orderItemId: o.lineA, quantity: 3 }]);
    assert.equal(tooMany.body.code, 'AFTER_SALE_UNITS_TAKEN');
    const stockB = await stockOf(ctx, o.skuB);

    const asked = await ask('REFUND_ONLY', [{ orderItemId: o.lineB, quantity: 1 }]);
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    assert.equal(asked.body.goods, 'UNSHIPPED');
    // The units asked for do not ship; the rest of line A does, and the order waits for the review.
    const blocked = await ship(o.id, `R2${o.id}`, [{ orderItemId: o.lineB, quantity: 1 }]);
    assert.equal(blocked.body.code, 'SHIPMENT_UNITS_UNAVAILABLE');
    const rest = await ship(o.id, `R2${o.id}`);
    assert.equal(rest.body.status, 'PARTIALLY_SHIPPED');
    assert.equal((await ship(o.id, `R3${o.id}`)).body.code, 'SHIPMENT_UNITS_UNAVAILABLE');

    const approved = await call('POST', `/v1/admin/after-sales/${asked.body.id}/approve`, staff, {});
    assert.equal(approved.body.status, 'REFUNDING', JSON.stringify(approved.body));
    const back = await stockOf(ctx, o.skuB);
    assert.deepEqual([back.available, back.sold], [stockB.available + 1, stockB.sold - 1]);
    await confirmRefund(approved.body as { refundId: string });
    const order = (await getOrder(ctx.db, o.id))!;
    assert.equal(order.status, 'SHIPPED', 'the refund of the last unshipped units completes the shipping');
    assert.equal(order.refundedAmount, asked.body.total);
    const again = await stockOf(ctx, o.skuB);
    assert.deepEqual([again.available, again.sold], [back.available, back.sold], 'restocked once');
    await auditClean(o.id);
  });

  it('a parcel delivered before the refund of the rest: the refund completes the shipping and the delivery', async () => {
    const o = await paidOrder();
    await ship(o.id, `D1${o.id}`, [{ orderItemId: o.lineA, quantity: 3 }]);
    const asked = await call('POST', `/v1/orders/${o.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'out of stock at the warehouse',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    assert.equal(asked.status, 201);
    const delivered = await call('POST', `/v1/admin/orders/${o.id}/deliver`, staff);
    assert.equal(delivered.body.status, 'PARTIALLY_SHIPPED', 'a unit may still ship: not delivered yet');
    const approved = await call('POST', `/v1/admin/after-sales/${asked.body.id}/approve`, staff, {});
    await confirmRefund(approved.body as { refundId: string });
    const order = (await getOrder(ctx.db, o.id))!;
    assert.equal(order.status, 'DELIVERED');
    assert.ok(order.deliveredAt && order.shippedAt);
    assert.deepEqual((await eventTypes(o.id)).slice(-3), [
      'order.parcel_delivered',
      'order.shipped',
      'order.delivered',
    ]);
    await auditClean(o.id);
  });

  it('with order.autoApproveUnshippedRefunds a refund of units not shipped is approved without review; delivered goods still wait', async () => {
    const auto = await createServiceContext(
      testConfig({ ...OWN_REDIS, QIANFAN_ORDER__AUTO_APPROVE_UNSHIPPED_REFUNDS: 'true' }),
      {
        process: 'restful',
        mq: true,
        logger: testLogger,
      },
    );
    const autoApp = await buildApp(auto);
    try {
      const o = await paidOrder();
      const res = await autoApp.inject({
        method: 'POST',
        url: `/v1/orders/${o.id}/after-sales`,
        headers: { authorization: `Bearer ${o.token}`, 'idempotency-key': randomUUID() },
        payload: { kind: 'REFUND_ONLY', reason: 'ordered twice', lines: [{ orderItemId: o.lineB, quantity: 1 }] },
      });
      assert.equal(res.statusCode, 201, res.body);
      const read = await call('GET', `/v1/after-sales/${JSON.parse(res.body).id}`, o.token);
      assert.equal(read.body.status, 'REFUNDING');
      assert.equal(read.body.history.at(-1).actor, 'SYSTEM');
      assert.ok(read.body.refundId);
    } finally {
      await autoApp.close();
      await auto.close();
    }
  });

  it('an order left SHIPPED with every parcel arrived (a crash between two moves) is delivered by a repeated refund confirmation, or by /deliver', async () => {
    const arrivedBehind = async () => {
      const o = await paidOrder();
      assert.equal((await ship(o.id, `M1${o.id}`)).body.status, 'SHIPPED');
      await executeSql(ctx.db, "UPDATE shipments SET status = 'DELIVERED', delivered_at = ? WHERE order_id = ?", [
        new Date(),
        o.id,
      ]);
      return o;
    };
    const a = await arrivedBehind();
    await closeFullyRefunded(ctx, a.id);
    assert.equal((await getOrder(ctx.db, a.id))!.status, 'DELIVERED');
    const b = await arrivedBehind();
    const fixed = await call('POST', `/v1/admin/orders/${b.id}/deliver`, staff);
    assert.equal(fixed.body.status, 'DELIVERED', JSON.stringify(fixed.body));
    await auditClean(a.id);
    await auditClean(b.id);
  });

  it('a rejected refund of unshipped units frees them: the order, not yet fully shipped, ships them', async () => {
    const o = await paidOrder();
    await ship(o.id, `J1${o.id}`, [{ orderItemId: o.lineA, quantity: 3 }]);
    const asked = await call('POST', `/v1/orders/${o.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'changed my mind',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    assert.equal(asked.status, 201);
    const rejected = await call('POST', `/v1/admin/after-sales/${asked.body.id}/reject`, staff, {
      note: 'already packed',
    });
    assert.equal(rejected.body.status, 'REJECTED');
    const last = await ship(o.id, `J2${o.id}`);
    assert.equal(last.body.status, 'SHIPPED', JSON.stringify(last.body));
  });

  it('a lost parcel: a refund-only after-sale for its units is opened and approved; the order is DELIVERED when the others arrived; reporting again changes nothing', async () => {
    const o = await paidOrder();
    await ship(o.id, `L1${o.id}`, [{ orderItemId: o.lineA, quantity: 3 }]);
    const shipped = await ship(o.id, `L2${o.id}`);
    assert.equal(shipped.body.status, 'SHIPPED');
    const parcels = (await call('GET', `/v1/orders/${o.id}`, o.token)).body.shipments.map((s: any) => s.id);
    await call('POST', `/v1/admin/orders/${o.id}/shipments/${parcels[0]}/deliver`, staff);

    const buyerTries = await call('POST', `/v1/admin/orders/${o.id}/shipments/${parcels[1]}/lost`, o.token, {
      reason: 'x',
    });
    assert.equal(buyerTries.status, 403);
    const lost = await call('POST', `/v1/admin/orders/${o.id}/shipments/${parcels[1]}/lost`, staff, {
      reason: 'carrier confirmed the loss',
    });
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    assert.equal(lost.body.status, 'DELIVERED');
    const again = await call('POST', `/v1/admin/orders/${o.id}/shipments/${parcels[1]}/lost`, staff, {
      reason: 'carrier confirmed the loss',
    });
    assert.equal(again.body.version, lost.body.version);
    const deliverLost = await call('POST', `/v1/admin/orders/${o.id}/shipments/${parcels[1]}/deliver`, staff);
    assert.equal(deliverLost.body.code, 'SHIPMENT_STATE_CONFLICT');

    const whole = (await call('GET', `/v1/orders/${o.id}`, o.token)).body;
    assert.deepEqual(
      whole.shipments.map((s: any) => s.status),
      ['DELIVERED', 'LOST'],
    );
    assert.equal(whole.afterSales.length, 1, 'one after-sale however often the loss is reported');
    const sale = whole.afterSales[0];
    assert.deepEqual(
      [sale.kind, sale.status, sale.goods, sale.shipmentId, sale.lines.map((l: any) => [l.orderItemId, l.quantity])],
      ['REFUND_ONLY', 'REFUNDING', 'LOST', parcels[1], [[o.lineB, 1]]],
    );
    // Line B's whole net (2,000 fen; no discount, no shipping fee): the delivered units of line A stay kept.
    assert.equal(sale.total, 2000);
    await confirmRefund(sale);
    const order = (await getOrder(ctx.db, o.id))!;
    assert.deepEqual([order.status, order.refundedAmount], ['DELIVERED', 2000]);
    await auditClean(o.id);
  });

  it("a lost parcel on a line the buyer has an open request on: the loss is refunded at once, the buyer's request waits for its own review, the money adds up", async () => {
    const o = await paidOrder();
    const first = await ship(o.id, `M1${o.id}`, [{ orderItemId: o.lineA, quantity: 2 }]);
    assert.equal(first.body.status, 'PARTIALLY_SHIPPED');
    // The buyer asks for the unit of line A that has not shipped (and line B): it waits for review.
    const asked = await call('POST', `/v1/orders/${o.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'only need two',
      lines: [{ orderItemId: o.lineA, quantity: 1 }],
    });
    assert.equal(asked.status, 201, JSON.stringify(asked.body));
    const parcel = (await call('GET', `/v1/orders/${o.id}`, o.token)).body.shipments[0].id;
    const lost = await call('POST', `/v1/admin/orders/${o.id}/shipments/${parcel}/lost`, staff, {
      reason: 'carrier lost it',
    });
    assert.equal(lost.status, 200, JSON.stringify(lost.body));
    const whole = (await call('GET', `/v1/orders/${o.id}`, o.token)).body;
    const byGoods = Object.fromEntries(whole.afterSales.map((a: any) => [a.goods, a]));
    assert.deepEqual(
      [byGoods.LOST.status, byGoods.LOST.lines.map((l: any) => [l.orderItemId, l.quantity])],
      ['REFUNDING', [[o.lineA, 2]]],
    );
    assert.equal(byGoods.UNSHIPPED.status, 'REQUESTED', "the buyer's request is untouched");
    // Neither blocks the buyer's next request on another line, nor does the lost parcel's refund.
    const other = await call('POST', `/v1/orders/${o.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'not B either',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    assert.equal(other.status, 201, JSON.stringify(other.body));
    await confirmRefund(byGoods.LOST);
    for (const id of [asked.body.id, other.body.id]) {
      const approved = await call('POST', `/v1/admin/after-sales/${id}/approve`, staff, {});
      assert.equal(approved.body.status, 'REFUNDING', JSON.stringify(approved.body));
      await confirmRefund(approved.body as { refundId: string });
    }
    // Everything came back: 3 × 1,000 + 2,000, and nothing is left to ship.
    const order = (await getOrder(ctx.db, o.id))!;
    assert.deepEqual([order.status, order.refundedAmount], ['REFUNDED', 5000]);
    await auditClean(o.id);
  });

  it('a refund of the units left to ship racing a parcel for them: exactly one takes them (three rounds)', async () => {
    for (let round = 0; round < 3; round++) {
      const o = await paidOrder();
      await ship(o.id, `X1${o.id}`, [{ orderItemId: o.lineA, quantity: 3 }]);
      const [refund, parcel] = await Promise.all([
        call('POST', `/v1/orders/${o.id}/after-sales`, o.token, {
          kind: 'REFUND_ONLY',
          reason: 'race',
          lines: [{ orderItemId: o.lineB, quantity: 1 }],
        }),
        ship(o.id, `X2${o.id}`, [{ orderItemId: o.lineB, quantity: 1 }]),
      ]);
      const won = [refund.status === 201, parcel.status === 200];
      assert.equal(won.filter(Boolean).length, 1, `round ${round}: ${refund.status} ${parcel.status}`);
      const [row] = await selectSql<{ shipped: string | null; held: string | null }>(
        ctx.db,
        `SELECT (SELECT SUM(quantity) FROM shipment_items WHERE order_item_id = ?) AS shipped,
                (SELECT SUM(l.quantity) FROM after_sale_lines l JOIN after_sales a ON a.id = l.after_sale_id
                  WHERE l.order_item_id = ? AND a.status NOT IN ('REJECTED', 'CLOSED')) AS held`,
        [o.lineB, o.lineB],
      );
      assert.equal(Number(row!.shipped ?? 0) + Number(row!.held ?? 0), 1, `round ${round}: unit B taken twice`);
      const status = (await getOrder(ctx.db, o.id))!.status;
      assert.equal(status, parcel.status === 200 ? 'SHIPPED' : 'PARTIALLY_SHIPPED');
    }
  });

  it('a SHIPPED order with no delivery signal completes after order.autoCompleteShippedDays; a recent one does not', async () => {
    const old = await paidOrder();
    const recent = await paidOrder();
    await ship(old.id, `A1${old.id}`);
    await ship(recent.id, `A1${recent.id}`);
    const days = ctx.config.order.autoCompleteShippedDays;
    await executeSql(ctx.db, 'UPDATE orders SET shipped_at = ? WHERE id = ?', [
      new Date(Date.now() - (days + 1) * 86_400_000),
      old.id,
    ]);
    const r = await autoConfirmReceipts(ctx);
    assert.ok(r.confirmed >= 1);
    const done = (await getOrder(ctx.db, old.id))!;
    assert.equal(done.status, 'COMPLETED');
    assert.ok(done.completedAt);
    assert.equal((await getOrder(ctx.db, recent.id))!.status, 'SHIPPED');
    // The buyer may still ask for an after-sale on what they received (the window runs from completion).
    const asked = await call('GET', `/v1/orders/${old.id}/refund-preview?lines=${old.lineB}:1`, old.token);
    assert.equal(asked.status, 200, JSON.stringify(asked.body));
  });

  it('the delivery consumer applies carrier updates per parcel through the broker: one of two parcels arrives, a parcel not recorded yet waits until it is, a lost parcel that turns up changes nothing', async () => {
    const loop = await startSubscription(ctx, 'qianfan-order-delivery');
    const statuses = async (id: bigint) =>
      (
        await selectSql<{ tracking_no: string; status: string }>(
          ctx.db,
          'SELECT tracking_no, status FROM shipments WHERE order_id = ? ORDER BY id',
          [id],
        )
      ).map((r) => `${r.tracking_no}:${r.status}`);
    const notify = (orderId: bigint, trackingNo: string) =>
      requireMq(ctx).send({
        topic: topics.deliveryNotify.name,
        envelope: newEnvelope('delivery.delivered', { orderId: String(orderId), carrier: 'SF', trackingNo }),
        key: String(orderId),
        messageGroup: String(orderId),
      });
    try {
      const o = await paidOrder();
      await ship(o.id, `DA${o.id}`, [{ orderItemId: o.lineA, quantity: 3 }]);
      assert.equal((await ship(o.id, `DB${o.id}`)).body.status, 'SHIPPED');
      await notify(o.id, `DA${o.id}`);
      await waitFor('parcel A delivered', 20_000, async () => (await statuses(o.id))[0] === `DA${o.id}:DELIVERED`);
      assert.deepEqual(await statuses(o.id), [`DA${o.id}:DELIVERED`, `DB${o.id}:SHIPPED`]);
      assert.equal((await getOrder(ctx.db, o.id))!.status, 'SHIPPED', 'one parcel of two arrived');
      await notify(o.id, `DB${o.id}`);
      await waitFor('the order delivered', 20_000, async () => (await getOrder(ctx.db, o.id))!.status === 'DELIVERED');

      // The carrier reports a parcel before support has recorded it: retried until it is recorded.
      const p = await paidOrder();
      await ship(p.id, `EA${p.id}`, [{ orderItemId: p.lineA, quantity: 3 }]);
      await notify(p.id, `EB${p.id}`);
      await sleep(1500);
      assert.deepEqual(await statuses(p.id), [`EA${p.id}:SHIPPED`]);
      assert.equal((await ship(p.id, `EB${p.id}`)).body.status, 'SHIPPED');
      await waitFor(
        'the early update applied',
        30_000,
        async () => (await statuses(p.id))[1] === `EB${p.id}:DELIVERED`,
      );
      // Parcel A is lost; the order is delivered; A turning up afterwards changes nothing and blocks nothing.
      const [first] = (await call('GET', `/v1/orders/${p.id}`, p.token)).body.shipments;
      const lost = await call('POST', `/v1/admin/orders/${p.id}/shipments/${first.id}/lost`, staff, { reason: 'lost' });
      assert.equal(lost.body.status, 'DELIVERED', JSON.stringify(lost.body));
      const version = (await getOrder(ctx.db, p.id))!.version;
      const acked = async () =>
        (await ctx.metrics.getSingleMetric('qianfan_mq_consumed_total')!.get()).values
          .filter((v) => v.labels.group === 'qianfan-order-delivery' && v.labels.result === 'ok')
          .reduce((n, v) => n + v.value, 0);
      const before = await acked();
      await notify(p.id, `EA${p.id}`);
      await waitFor('the late update handled', 20_000, async () => (await acked()) > before);
      assert.deepEqual(await statuses(p.id), [`EA${p.id}:LOST`, `EB${p.id}:DELIVERED`]);
      assert.equal((await getOrder(ctx.db, p.id))!.version, version);
    } finally {
      await loop.stop();
    }
  });

  it('over gRPC: parcels by lines, delivery of one parcel, ReportParcelLost of the other (bad input INVALID_ARGUMENT, an unknown parcel NOT_FOUND, a retry the same answer)', async () => {
    const { call: rpcCall, close } = await inProcessRpc(ctx);
    try {
      const o = await paidOrder();
      const first = await rpcCall('shipOrder', {
        requestId: randomUUID(),
        orderId: String(o.id),
        carrier: 'SF',
        trackingNo: `G1${o.id}`,
        lines: [{ orderItemId: o.lineA, quantity: 3 }],
      });
      assert.equal(first.err, undefined, first.err?.message);
      assert.equal(first.res.order.status, OrderStatus.PARTIALLY_SHIPPED);
      const second = await rpcCall('shipOrder', {
        requestId: randomUUID(),
        orderId: String(o.id),
        carrier: 'SF',
        trackingNo: `G2${o.id}`,
        lines: [],
      });
      assert.equal(second.res.order.status, OrderStatus.SHIPPED);
      const got = await rpcCall('getOrder', { orderId: String(o.id), userId: String(o.buyer) });
      const [pa, pb] = got.res.order.shipments.map((x: any) => x.id);
      const delivered = await rpcCall('markDelivered', {
        requestId: randomUUID(),
        orderId: String(o.id),
        shipmentId: pa,
      });
      assert.equal(delivered.res.order.status, OrderStatus.SHIPPED, 'one parcel of two arrived');

      const report = (shipmentId: string, reason: string, requestId: string = randomUUID()) =>
        rpcCall('reportParcelLost', { requestId, orderId: String(o.id), shipmentId, reason });
      assert.equal((await report('x1', 'lost')).err?.code, status.INVALID_ARGUMENT);
      assert.equal((await report(pb, '')).err?.code, status.INVALID_ARGUMENT);
      assert.equal((await report('1', 'lost')).err?.code, status.NOT_FOUND);
      assert.equal((await report(pa, 'lost')).err?.code, status.FAILED_PRECONDITION, 'a delivered parcel');
      const requestId = randomUUID();
      const lost = await report(pb, 'carrier lost it', requestId);
      assert.equal(lost.err, undefined, lost.err?.message);
      assert.equal(lost.res.order.status, OrderStatus.DELIVERED);
      assert.deepEqual(
        [lost.res.afterSale.kind, lost.res.afterSale.status, lost.res.afterSale.goods, lost.res.afterSale.shipmentId],
        ['REFUND_ONLY', 'REFUNDING', 'LOST', pb],
      );
      assert.equal(lost.res.afterSale.total, '2000');
      const retried = await report(pb, 'carrier lost it', requestId);
      assert.deepEqual(retried.res, lost.res, 'a retry with the same request id gets the same answer');
      const again = await report(pb, 'carrier lost it');
      assert.equal(again.res.afterSale.id, lost.res.afterSale.id, 'one after-sale however often it is reported');
      assert.equal((await afterSalesOf(o.id)).length, 1);
      await auditClean(o.id);
    } finally {
      await close();
    }
  });

  it('delivery updates name a parcel by tracking number; a carrier without one is refused', () => {
    assert.deepEqual(parseDeliveryUpdate({ orderId: '12', trackingNo: 'SF123456', carrier: 'SF' }), {
      orderId: 12n,
      trackingNo: 'SF123456',
      carrier: 'SF',
    });
    assert.throws(() => parseDeliveryUpdate({ orderId: '12', carrier: 'SF' }), /carrier needs trackingNo/);
    assert.throws(() => parseDeliveryUpdate({ orderId: '12', trackingNo: 'bad no' }), /invalid/);
  });
});
