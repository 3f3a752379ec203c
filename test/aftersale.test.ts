import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import {
  closeStaleAfterSales,
  expireReturnIfDue,
  getAfterSale,
  measureAfterSales,
} from '../internal/aftersale/index.js';
import { auditInvariants } from '../internal/audit/index.js';
import { signDevToken } from '../internal/auth/index.js';
import { markDelivered, shipOrder } from '../internal/delivery/index.js';
import { executeSql, selectSql } from '../internal/model/index.js';
import { adjustOrderPrice, createOrder, getOrder } from '../internal/order/index.js';
import {
  applyPaymentResult,
  approveAfterSaleRequest,
  completeRefund,
  getRefund,
  paymentsOfOrder,
  refundsOfOrder,
  startPayment,
} from '../internal/payment/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { ReviewDecision } from '../pkg/gen/qianfan/order/v1/order.js';
import { buildApp } from '../restful/app.js';
import { testConfig, testEnv } from './helpers/config.js';
import { startSubscription } from './helpers/consumers.js';
import { inProcessRpc } from './helpers/grpc.js';
import { jsonCaller, ownRedis } from './helpers/inject.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, stockOf } from './helpers/orders.js';
import { startProcess } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

let nextUser = BigInt(Date.now()) * 1000n + 720_000n;
// Hundreds of requests from 127.0.0.1: counted under this file's own Redis prefix (ownRedis).
const OWN_REDIS = ownRedis('aftersale');
const admin = { type: 'ADMIN' as const, id: '9001' };

// After-sales through the HTTP API on the real stack: partial returns and refunds with exact money, the
// merchant's review, and the races that must end in one consistent outcome.
describe('after-sales: returns and partial refunds (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  before(async () => {
    ctx = await createServiceContext(testConfig(OWN_REDIS), { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const tokenFor = (userId: bigint, roles = ['user']) =>
    signDevToken(ctx.config.auth, { userId: String(userId), roles }, 600);
  const call = (...args: Parameters<ReturnType<typeof jsonCaller>>) => jsonCaller(app)(...args);

  /** A delivered order of two lines (2 × 1,000 and 1 × 3,000 fen), 800 fen shipping and 500 fen off. */
  async function deliveredOrder() {
    const [a, b] = await makeSkus(ctx, [
      { price: 1000, available: 10 },
      { price: 3000, available: 10 },
    ]);
    const buyer = ++nextUser;
    const { order, items } = await createOrder(ctx, {
      userId: buyer,
      items: [
        { skuId: a!, quantity: 2 },
        { skuId: b!, quantity: 1 },
      ],
      address,
    });
    await adjustOrderPrice(ctx, {
      orderId: order.id,
      actor: admin,
      reason: 'shipping and coupon',
      shippingFee: 800,
      discountAmount: 500,
    });
    const { payment } = await startPayment(ctx, { orderId: order.id, userId: buyer });
    assert.equal(payment.amount, 5300);
    await applyPaymentResult(ctx, {
      paymentId: payment.id,
      status: 'SUCCEEDED',
      amount: 5300,
      currency: 'CNY',
      providerTxnId: `as-${payment.id}`,
    });
    await shipOrder(ctx, { orderId: order.id, carrier: 'YTO', trackingNo: `YT${order.id}`, actor: admin });
    await markDelivered(ctx, { orderId: order.id, actor: admin });
    const lineA = items.find((i) => i.skuId === a)!.id.toString();
    const lineB = items.find((i) => i.skuId === b)!.id.toString();
    return { order, buyer, token: await tokenFor(buyer), skuA: a!, skuB: b!, lineA, lineB };
  }

  /** The provider confirms an after-sale's refund (as the sandbox's refund notification would). */
  async function confirmRefund(afterSale: Record<string, any>) {
    const refund = await getRefund(ctx.db, BigInt(afterSale.refundId));
    assert.ok(refund, 'the after-sale has no refund');
    assert.equal(refund.amount, afterSale.total);
    assert.ok(refund.providerRefundId, 'the refund was not sent to the provider');
    return completeRefund(ctx, { refundId: refund.id, amount: refund.amount });
  }

  it('returns one item of a two-item order end to end, then refunds the rest: exact money, stock back once, order REFUNDED at the end', async () => {
    const o = await deliveredOrder();
    const staff = await tokenFor(++nextUser, ['admin']);
    // Read (and cache) the whole order first: every after-sale step must move it.
    assert.deepEqual((await call('GET', `/v1/orders/${o.order.id}`, o.token)).body.afterSales, []);
    // Items 5,000, discount 500 spread 200 / 300 by line total (2,000 / 3,000), shipping 800.
    const preview = await call('GET', `/v1/orders/${o.order.id}/refund-preview?lines=${o.lineA}:1`, o.token);
    assert.equal(preview.status, 200);
    assert.deepEqual(preview.body, {
      lines: [{ orderItemId: o.lineA, quantity: 1, amount: 900 }],
      itemsAmount: 900,
      shippingAmount: 0,
      total: 900,
    });

    const requested = await call('POST', `/v1/orders/${o.order.id}/after-sales`, o.token, {
      kind: 'RETURN_AND_REFUND',
      reason: 'wrong size',
      evidence: ['https://img.example.com/1.jpg'],
      lines: [{ orderItemId: o.lineA, quantity: 1 }],
    });
    assert.equal(requested.status, 201, JSON.stringify(requested.body));
    assert.equal(requested.body.status, 'REQUESTED');
    assert.equal(requested.body.total, 900);
    const id = requested.body.id;

    // The same line cannot have a second open request.
    const second = await call('POST', `/v1/orders/${o.order.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'again',
      lines: [{ orderItemId: o.lineA, quantity: 1 }],
    });
    assert.equal(second.status, 409);
    assert.equal(second.body.code, 'AFTER_SALE_UNITS_TAKEN');
    // Nor can the whole order be refunded directly while it has after-sales.
    const direct = await call('POST', `/v1/orders/${o.order.id}/refunds`, o.token, { reason: 'all of it' });
    assert.equal(direct.status, 409);
    // A buyer cannot review, and another buyer does not see it.
    assert.equal((await call('POST', `/v1/admin/after-sales/${id}/approve`, o.token, {})).status, 403);
    assert.equal((await call('GET', `/v1/after-sales/${id}`, await tokenFor(++nextUser))).status, 404);

    const approved = await call('POST', `/v1/admin/after-sales/${id}/approve`, staff, {
      note: 'send it to the Hangzhou warehouse',
    });
    assert.equal(approved.body.status, 'APPROVED');
    assert.equal(approved.body.refundId, null);
    const shipped = await call('POST', `/v1/after-sales/${id}/return-shipment`, o.token, {
      carrier: 'SF',
      trackingNo: 'SF1234567890',
    });
    assert.equal(shipped.body.status, 'RETURN_SHIPPED');
    const before = await stockOf(ctx, o.skuA);
    const received = await call('POST', `/v1/admin/after-sales/${id}/receive`, staff);
    assert.equal(received.status, 200);
    assert.equal(received.body.status, 'REFUNDING');
    assert.deepEqual(await stockOf(ctx, o.skuA), { ...before, available: before.available + 1, sold: before.sold - 1 });
    // Received again (a retry with a new key): nothing moves, nothing is restocked twice.
    assert.equal((await call('POST', `/v1/admin/after-sales/${id}/receive`, staff)).status, 200);
    assert.deepEqual(await stockOf(ctx, o.skuA), { ...before, available: before.available + 1, sold: before.sold - 1 });

    assert.equal(await confirmRefund(received.body), 'REFUNDED');
    const done = await call('GET', `/v1/after-sales/${id}`, o.token);
    assert.equal(done.body.status, 'REFUNDED');
    assert.deepEqual(
      done.body.history.map((h: any) => [h.from, h.to, h.actor]),
      [
        [null, 'REQUESTED', 'USER'],
        ['REQUESTED', 'APPROVED', 'ADMIN'],
        ['APPROVED', 'RETURN_SHIPPED', 'USER'],
        ['RETURN_SHIPPED', 'RETURN_RECEIVED', 'ADMIN'],
        ['RETURN_RECEIVED', 'REFUNDING', 'ADMIN'],
        ['REFUNDING', 'REFUNDED', 'PROVIDER'],
      ],
    );
    let order = (await getOrder(ctx.db, o.order.id))!;
    assert.equal(order.status, 'DELIVERED', 'a partly refunded order keeps its status');
    const partly = await call('GET', `/v1/orders/${o.order.id}`, o.token);
    assert.equal(partly.body.refundedAmount, 900, 'the cached whole order did not move with the refund');
    assert.deepEqual(
      partly.body.afterSales.map((a: any) => a.status),
      ['REFUNDED'],
    );
    assert.equal(order.refundedAmount, 900);
    assert.deepEqual(
      (await paymentsOfOrder(ctx.db, o.order.id)).map((p) => p.status),
      ['SUCCEEDED'],
      'the payment is not refunded in full',
    );

    // The rest, refund only: the other unit of A (1,800 - 900 = 900), all of B (2,700) and the shipping (800).
    const rest = await call('POST', `/v1/orders/${o.order.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'not needed',
      lines: [
        { orderItemId: o.lineA, quantity: 1 },
        { orderItemId: o.lineB, quantity: 1 },
      ],
    });
    assert.equal(rest.status, 201, JSON.stringify(rest.body));
    assert.deepEqual([rest.body.itemsAmount, rest.body.shippingAmount, rest.body.total], [3600, 800, 4400]);
    const restApproved = await call('POST', `/v1/admin/after-sales/${rest.body.id}/approve`, staff, {});
    assert.equal(restApproved.body.status, 'REFUNDING');
    assert.equal(await confirmRefund(restApproved.body), 'REFUNDED');
    order = (await getOrder(ctx.db, o.order.id))!;
    assert.equal(order.status, 'REFUNDED');
    assert.equal(order.refundedAmount, order.paidAmount);
    assert.deepEqual(
      (await paymentsOfOrder(ctx.db, o.order.id)).map((p) => p.status),
      ['REFUNDED'],
    );
    const refunds = await refundsOfOrder(ctx.db, o.order.id);
    assert.deepEqual(
      refunds.map((r) => [r.kind, r.amount, r.status]),
      [
        ['AFTER_SALE_LINES', 900, 'SUCCEEDED'],
        ['AFTER_SALE_LINES', 4400, 'SUCCEEDED'],
      ],
    );
    // The whole order shows its after-sales (its cached read moved with every after-sale step).
    const whole = await call('GET', `/v1/orders/${o.order.id}`, o.token);
    assert.equal(whole.body.status, 'REFUNDED');
    assert.deepEqual(
      whole.body.afterSales.map((a: any) => [a.id, a.kind, a.status, a.total]),
      [
        [id, 'RETURN_AND_REFUND', 'REFUNDED', 900],
        [rest.body.id, 'REFUND_ONLY', 'REFUNDED', 4400],
      ],
    );
    // Nothing more to ask for.
    const more = await call('GET', `/v1/orders/${o.order.id}/refund-preview?lines=${o.lineB}:1`, o.token);
    assert.equal(more.status, 409);
    // The books agree: the audit's checks find nothing wrong with this order.
    // (Its SKU checks cover every SKU, including rows other tests break on purpose: only this order's count.)
    const report = await auditInvariants(ctx, { afterOrderId: String(o.order.id - 1n), maxOrders: 1, settleMs: 0 });
    const ours = [String(o.order.id), String(o.skuA), String(o.skuB)];
    assert.deepEqual(
      report.findings.filter((f) => f.ids.some((x) => ours.some((id) => x.startsWith(id)))),
      [],
    );
  });

  it('a rejection gives the units back; bad input is refused with a code and writes nothing', async () => {
    const o = await deliveredOrder();
    const staff = await tokenFor(++nextUser, ['admin']);
    const url = `/v1/orders/${o.order.id}/after-sales`;
    for (const [body, code] of [
      [{ kind: 'REFUND_ONLY', reason: 'x', lines: [{ orderItemId: o.lineA, quantity: 3 }] }, 'AFTER_SALE_UNITS_TAKEN'],
      [{ kind: 'REFUND_ONLY', reason: 'x', lines: [{ orderItemId: '1', quantity: 1 }] }, 'AFTER_SALE_UNITS_TAKEN'],
      [{ kind: 'EXCHANGE', reason: 'x', lines: [{ orderItemId: o.lineA, quantity: 1 }] }, 'VALIDATION_FAILED'],
      [{ kind: 'REFUND_ONLY', reason: 'x', lines: [] }, 'VALIDATION_FAILED'],
      [
        {
          kind: 'REFUND_ONLY',
          reason: 'x',
          lines: [
            { orderItemId: o.lineA, quantity: 1 },
            { orderItemId: o.lineA, quantity: 1 },
          ],
        },
        'VALIDATION_FAILED',
      ],
    ] as const) {
      const r = await call('POST', url, o.token, body);
      assert.equal(r.body.code, code, JSON.stringify(body));
    }
    assert.deepEqual((await call('GET', url, o.token)).body.items, []);

    const r1 = await call('POST', url, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'broken',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    assert.equal(
      (await call('POST', `/v1/admin/after-sales/${r1.body.id}/reject`, staff, {})).body.code,
      'VALIDATION_FAILED',
    );
    const rejected = await call('POST', `/v1/admin/after-sales/${r1.body.id}/reject`, staff, {
      note: 'works as designed',
    });
    assert.equal(rejected.body.status, 'REJECTED');
    assert.equal(rejected.body.reviewNote, 'works as designed');
    // Approving it now is a state conflict that names the state.
    const late = await call('POST', `/v1/admin/after-sales/${r1.body.id}/approve`, staff, {});
    assert.deepEqual(
      [late.status, late.body.code, late.body.details?.currentStatus],
      [409, 'AFTER_SALE_STATE_CONFLICT', 'REJECTED'],
    );
    const again = await call('POST', url, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'really broken',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    assert.equal(again.status, 201);
    assert.equal(again.body.total, 2700);
    // The merchant's queue pages (query values arrive as text: limit=1 is one item and a cursor).
    const queue = await call('GET', '/v1/admin/after-sales?limit=1', staff);
    assert.equal(queue.status, 200, JSON.stringify(queue.body));
    assert.equal(queue.body.items.length, 1);
    assert.equal(typeof queue.body.nextCursor, 'string');
    const next = await call('GET', `/v1/admin/after-sales?limit=1&cursor=${queue.body.nextCursor}`, staff);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.ok(BigInt(next.body.items[0].id) < BigInt(queue.body.items[0].id));
    // Only delivered orders: a paid one is cancelled with the direct refund route instead.
    const [sku] = await makeSkus(ctx, [{ price: 100, available: 5 }]);
    const { order: unpaid, items } = await createOrder(ctx, {
      userId: o.buyer,
      items: [{ skuId: sku!, quantity: 1 }],
      address,
    });
    const early = await call('POST', `/v1/orders/${unpaid.id}/after-sales`, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'x',
      lines: [{ orderItemId: String(items[0]!.id), quantity: 1 }],
    });
    assert.deepEqual([early.status, early.body.code], [409, 'ORDER_STATE_CONFLICT']);
  });

  it('races end in one outcome: two requests for one line, approval against withdrawal, two receives of one return', async () => {
    const staff = await tokenFor(++nextUser, ['admin']);
    for (let round = 0; round < 3; round++) {
      const o = await deliveredOrder();
      const url = `/v1/orders/${o.order.id}/after-sales`;
      // Two requests for the same line at once: one is taken, the other refused.
      const both = await Promise.all(
        [1, 2].map(() =>
          call('POST', url, o.token, {
            kind: 'REFUND_ONLY',
            reason: 'race',
            lines: [{ orderItemId: o.lineA, quantity: 2 }],
          }),
        ),
      );
      assert.deepEqual(both.map((r) => r.status).sort(), [201, 409], JSON.stringify(both.map((r) => r.body)));
      const won = both.find((r) => r.status === 201)!.body;

      // The merchant approves while the buyer withdraws: exactly one wins, and a refund exists exactly when approval won.
      const [approve, withdraw] = await Promise.all([
        call('POST', `/v1/admin/after-sales/${won.id}/approve`, staff, {}),
        call('POST', `/v1/after-sales/${won.id}/withdraw`, o.token, {}),
      ]);
      const final = (await call('GET', `/v1/after-sales/${won.id}`, o.token)).body;
      const refunds = await refundsOfOrder(ctx.db, o.order.id);
      if (final.status === 'CLOSED') {
        assert.equal(withdraw.status, 200);
        assert.equal(approve.status, 409);
        assert.equal(refunds.length, 0);
      } else {
        assert.equal(final.status, 'REFUNDING');
        assert.equal(approve.status, 200);
        assert.equal(withdraw.status, 409);
        assert.deepEqual(
          refunds.map((r) => r.amount),
          [1800],
        );
      }

      // A return received twice at once: stock back once, one refund.
      const ret = await call('POST', url, o.token, {
        kind: 'RETURN_AND_REFUND',
        reason: 'race',
        lines: [{ orderItemId: o.lineB, quantity: 1 }],
      });
      assert.equal(ret.status, 201, JSON.stringify(ret.body));
      await call('POST', `/v1/admin/after-sales/${ret.body.id}/approve`, staff, {});
      await call('POST', `/v1/after-sales/${ret.body.id}/return-shipment`, o.token, {
        carrier: 'SF',
        trackingNo: `SF${round}0000`,
      });
      const stock = await stockOf(ctx, o.skuB);
      const receives = await Promise.all(
        [1, 2, 3].map(() => call('POST', `/v1/admin/after-sales/${ret.body.id}/receive`, staff)),
      );
      assert.deepEqual(
        receives.map((r) => r.status),
        [200, 200, 200],
      );
      assert.deepEqual(await stockOf(ctx, o.skuB), { ...stock, available: stock.available + 1, sold: stock.sold - 1 });
      const returnRefunds = (await refundsOfOrder(ctx.db, o.order.id)).filter(
        (r) => r.afterSaleId === BigInt(ret.body.id),
      );
      assert.equal(returnRefunds.length, 1);
    }
  });

  it('operators: the CLI lists, shows, dry-runs and takes the merchant steps; the gauges count what waits', async () => {
    const o = await deliveredOrder();
    const made = await call('POST', `/v1/orders/${o.order.id}/after-sales`, o.token, {
      kind: 'RETURN_AND_REFUND',
      reason: 'scratched',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    assert.equal(made.status, 201);
    const id = made.body.id as string;
    // Spawned, not spawnSync: the app in this process keeps its event loop (its load shedding watches it).
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['bin/qianfan-order.js', 'aftersale', ...args], { env: testEnv(OWN_REDIS) });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        p.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        p.on('close', (status) => resolve({ status, stdout, stderr }));
      });

    const ages = await measureAfterSales(ctx);
    assert.ok(ages.find((a) => a.status === 'REQUESTED')!.count >= 1);
    assert.match(
      await ctx.metrics.getSingleMetricAsString('qianfan_aftersales_open'),
      /status="REQUESTED"[^}]*\} [1-9]/,
    );

    const list = await cli('list', '--status', 'REQUESTED', '--limit', '1000');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id}  order ${o.order.id}  RETURN_AND_REFUND  REQUESTED  2700 fen`, 'm'));
    const dry = await cli('approve', id, '--dry-run');
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would go REQUESTED -> APPROVED; nothing changed/);
    assert.equal((await call('GET', `/v1/after-sales/${id}`, o.token)).body.status, 'REQUESTED');
    // A step the state does not allow: exit 1 with what is wrong; a bad id: exit 2.
    const early = await cli('receive', id);
    assert.equal(early.status, 1);
    assert.match(early.stderr, /cannot receive an after-sale that is REQUESTED/);
    assert.equal((await cli('show', 'abc')).status, 2);
    const approved = await cli('approve', id, '--note', 'ok');
    assert.equal(approved.status, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`after-sale ${id} is APPROVED`));
    const shown = await cli('show', id);
    assert.match(shown.stdout, /REQUESTED -> APPROVED by ADMIN:cli ok/);
    assert.match(shown.stdout, new RegExp(`line ${o.lineB}: 1 unit\\(s\\), 2700 fen`));
    assert.equal((await cli('reject', id)).status, 2, 'reject without --note is bad usage');
  });

  it('an approved return not sent back within order.returnShipDays is closed by the job; a shipped one is left alone', async () => {
    const o = await deliveredOrder();
    const staff = await tokenFor(++nextUser, ['admin']);
    const url = `/v1/orders/${o.order.id}/after-sales`;
    const idle = await call('POST', url, o.token, {
      kind: 'RETURN_AND_REFUND',
      reason: 'too big',
      lines: [{ orderItemId: o.lineA, quantity: 1 }],
    });
    const sent = await call('POST', url, o.token, {
      kind: 'RETURN_AND_REFUND',
      reason: 'too small',
      lines: [{ orderItemId: o.lineB, quantity: 1 }],
    });
    for (const a of [idle, sent])
      assert.equal(
        (await call('POST', `/v1/admin/after-sales/${a.body.id}/approve`, staff, {})).body.status,
        'APPROVED',
      );
    await call('POST', `/v1/after-sales/${sent.body.id}/return-shipment`, o.token, {
      carrier: 'SF',
      trackingNo: 'SF55550000',
    });

    // Not yet due: nothing happens.
    await closeStaleAfterSales(ctx);
    assert.equal((await call('GET', `/v1/after-sales/${idle.body.id}`, o.token)).body.status, 'APPROVED');
    const later = new Date(Date.now() + (ctx.config.order.returnShipDays + 1) * 86_400_000);
    const r = await closeStaleAfterSales(ctx, { now: later });
    assert.ok(r.closed >= 1, JSON.stringify(r));
    const closed = (await call('GET', `/v1/after-sales/${idle.body.id}`, o.token)).body;
    assert.equal(closed.status, 'CLOSED');
    assert.deepEqual(closed.history.at(-1).actor, 'SYSTEM');
    assert.equal((await call('GET', `/v1/after-sales/${sent.body.id}`, o.token)).body.status, 'RETURN_SHIPPED');
    // Its units are free again.
    const again = await call('POST', url, o.token, {
      kind: 'REFUND_ONLY',
      reason: 'keep it after all',
      lines: [{ orderItemId: o.lineA, quantity: 2 }],
    });
    assert.equal(again.status, 201, JSON.stringify(again.body));
  });

  it('an approved return is closed by its deadline message, which hops while the deadline lies beyond the delay horizon; a return sent back stops the hops', async () => {
    // The consumer's timeout group and the approval both run with a 2-second horizon: the 7-day deadline
    // is reached by hops, each scheduling the next.
    const hopping = await createServiceContext(testConfig({ ...OWN_REDIS, QIANFAN_ROCKETMQ__MAX_DELAY_SECONDS: '2' }), {
      process: 'consumer',
      mq: true,
      logger: testLogger,
    });
    const consumer = await startSubscription(hopping, 'qianfan-order-timeout');
    try {
      const o = await deliveredOrder();
      const asked = await call('POST', `/v1/orders/${o.order.id}/after-sales`, o.token, {
        kind: 'RETURN_AND_REFUND',
        reason: 'wrong colour',
        lines: [{ orderItemId: o.lineA, quantity: 1 }],
      });
      assert.equal(asked.status, 201, JSON.stringify(asked.body));
      const id = BigInt(asked.body.id);
      const approved = await approveAfterSaleRequest(hopping, { afterSaleId: id, actor: admin });
      assert.equal(approved.afterSale.status, 'APPROVED');
      const statusOf = async () => (await getAfterSale(ctx.db, id))!.status;

      // Hops pass for a few seconds; the deadline is days away, so nothing closes.
      await sleep(5000);
      assert.equal(await statusOf(), 'APPROVED');

      // The approval is moved back so that its deadline is 3 s away: a hop (at most 2 s) finds it not due
      // and schedules the message at the deadline itself, which closes it, not before.
      const dueAt = Date.now() + 3000;
      await executeSql(ctx.db, 'UPDATE after_sales SET updated_at = ? WHERE id = ?', [
        new Date(dueAt - ctx.config.order.returnShipDays * 86_400_000),
        id,
      ]);
      await waitFor('the deadline message closed the return', 20_000, async () => (await statusOf()) === 'CLOSED');
      const [log] = await selectSql<{ actor_id: string; created_at: Date }>(
        ctx.db,
        "SELECT actor_id, created_at FROM after_sale_log WHERE after_sale_id = ? AND to_status = 'CLOSED'",
        [id],
      );
      assert.equal(log?.actor_id, 'return_deadline');
      assert.ok(
        log.created_at.getTime() >= dueAt - 50,
        `closed ${dueAt - log.created_at.getTime()} ms before its deadline`,
      );
      // Its units are free again.
      const again = await call('POST', `/v1/orders/${o.order.id}/after-sales`, o.token, {
        kind: 'RETURN_AND_REFUND',
        reason: 'wrong colour, sending it now',
        lines: [{ orderItemId: o.lineA, quantity: 1 }],
      });
      assert.equal(again.status, 201, JSON.stringify(again.body));

      // A return sent back is no longer timed: its deadline message, due or not, changes nothing.
      const second = BigInt(again.body.id);
      await approveAfterSaleRequest(hopping, { afterSaleId: second, actor: admin });
      await call('POST', `/v1/after-sales/${second}/return-shipment`, o.token, {
        carrier: 'SF',
        trackingNo: 'SF55551111',
      });
      await executeSql(ctx.db, 'UPDATE after_sales SET updated_at = ? WHERE id = ?', [new Date(0), second]);
      assert.equal(await expireReturnIfDue(hopping, second), 'settled');
      await sleep(3000);
      assert.equal((await getAfterSale(ctx.db, second))!.status, 'RETURN_SHIPPED');
    } finally {
      await consumer.stop();
      await hopping.close();
    }
  });

  it('kill -9 of the consumer while it applies partial refunds: every after-sale refunded once, the books agree', async () => {
    const staff = await tokenFor(++nextUser, ['admin']);
    const cases: Array<{ o: Awaited<ReturnType<typeof deliveredOrder>>; ids: string[]; whole: boolean }> = [];
    for (let i = 0; i < 12; i++) {
      const o = await deliveredOrder();
      const url = `/v1/orders/${o.order.id}/after-sales`;
      const whole = i % 2 === 0;
      // Partly: one unit of A (900). Wholly: both units of A (1,800), then B with the shipping (3,500).
      const one = await call('POST', url, o.token, {
        kind: 'REFUND_ONLY',
        reason: 'one',
        lines: [{ orderItemId: o.lineA, quantity: whole ? 2 : 1 }],
      });
      assert.equal(one.status, 201, JSON.stringify(one.body));
      const ids: string[] = [one.body.id];
      if (whole) {
        const rest = await call('POST', url, o.token, {
          kind: 'REFUND_ONLY',
          reason: 'the rest',
          lines: [{ orderItemId: o.lineB, quantity: 1 }],
        });
        assert.equal(rest.body.total, 3500, JSON.stringify(rest.body));
        ids.push(rest.body.id);
      }
      for (const id of ids) {
        const r = await call('POST', `/v1/admin/after-sales/${id}/approve`, staff, {});
        assert.equal(r.body.status, 'REFUNDING', JSON.stringify(r.body));
      }
      cases.push({ o, ids, whole });
    }
    const env = { ...OWN_REDIS, QIANFAN_SERVICE__INSTANCE: '71', QIANFAN_ADMIN__CONSUMER_PORT: '19271' };
    const ready = async () => (await fetch('http://127.0.0.1:19271/readyz').catch(() => undefined))?.ok;
    let consumer = startProcess('consumer/main.ts', [], env);
    try {
      await waitFor('the consumer ready', 60_000, ready);
      // The provider confirms every refund: signed webhooks, applied by the consumer from payment_notify.
      for (const c of cases) {
        const r = await app.inject({
          method: 'POST',
          url: `/v1/sandbox/orders/${c.o.order.id}/refunds/confirm`,
          headers: { authorization: `Bearer ${staff}` },
        });
        assert.equal(r.statusCode, 202, r.body);
      }
      const refunded = async () =>
        (
          await Promise.all(
            cases.flatMap((c) =>
              c.ids.map(async (id) => (await call('GET', `/v1/after-sales/${id}`, c.o.token)).body.status),
            ),
          )
        ).filter((s) => s === 'REFUNDED').length;
      await waitFor('some after-sales refunded', 60_000, async () => (await refunded()) >= 2, 20);
      consumer.child.kill('SIGKILL');
      await consumer.exited;
      const atKill = await refunded();
      consumer = startProcess('consumer/main.ts', [], env);
      await waitFor('every after-sale refunded after the restart', 120_000, async () => (await refunded()) === 18);
      await sleep(500);
      for (const c of cases) {
        const order = (await getOrder(ctx.db, c.o.order.id))!;
        const refunds = await refundsOfOrder(ctx.db, c.o.order.id);
        assert.deepEqual(
          refunds.map((r) => r.status),
          c.ids.map(() => 'SUCCEEDED'),
        );
        assert.equal(
          order.refundedAmount,
          refunds.reduce((n, r) => n + r.amount, 0),
        );
        assert.equal(
          order.status,
          c.whole ? 'REFUNDED' : 'DELIVERED',
          `order ${order.id} (killed with ${atKill} of 18 refunded)`,
        );
        assert.equal(order.refundedAmount, c.whole ? order.paidAmount : 900);
        for (const id of c.ids) {
          const log = (await call('GET', `/v1/after-sales/${id}`, c.o.token)).body.history;
          assert.equal(log.filter((h: any) => h.to === 'REFUNDED').length, 1);
        }
      }
      const first = cases[0]!.o.order.id;
      const report = await auditInvariants(ctx, { afterOrderId: String(first - 1n), maxOrders: 2000, settleMs: 0 });
      const ours = new Set(cases.map((c) => String(c.o.order.id)));
      assert.deepEqual(
        report.findings.filter((f) => f.ids.some((x) => ours.has(x.split('/')[0]!))),
        [],
      );
    } finally {
      consumer.child.kill('SIGKILL');
    }
  });

  it('over gRPC: request, read, list, review and withdraw; bad input is INVALID_ARGUMENT, another buyer NOT_FOUND', async () => {
    const { call, close } = await inProcessRpc(ctx);
    try {
      const o = await deliveredOrder();
      const made = await call('requestAfterSale', {
        requestId: randomUUID(),
        orderId: String(o.order.id),
        userId: String(o.buyer),
        kind: 'REFUND_ONLY',
        reason: 'never arrived in one piece',
        evidence: [],
        lines: [{ orderItemId: o.lineB, quantity: 1 }],
      });
      assert.equal(made.err, undefined, made.err?.message);
      const a = made.res.afterSale;
      assert.deepEqual([a.status, a.total, a.lines[0].amount], ['REQUESTED', '2700', '2700']);
      const other = await call('getAfterSale', { afterSaleId: a.id, userId: String(++nextUser) });
      assert.equal(other.err?.code, status.NOT_FOUND);
      const bad = await call('requestAfterSale', {
        requestId: randomUUID(),
        orderId: String(o.order.id),
        userId: String(o.buyer),
        kind: 'EXCHANGE',
        reason: 'x',
        evidence: [],
        lines: [{ orderItemId: o.lineA, quantity: 1 }],
      });
      assert.equal(bad.err?.code, status.INVALID_ARGUMENT);
      const undecided = await call('reviewAfterSale', {
        requestId: randomUUID(),
        afterSaleId: a.id,
        decision: ReviewDecision.UNSPECIFIED,
        note: '',
      });
      assert.equal(undecided.err?.code, status.INVALID_ARGUMENT);
      const approved = await call('reviewAfterSale', {
        requestId: randomUUID(),
        afterSaleId: a.id,
        decision: ReviewDecision.APPROVE,
        note: 'sorry',
      });
      assert.equal(approved.res?.afterSale.status, 'REFUNDING', approved.err?.message);
      assert.notEqual(approved.res?.afterSale.refundId, '');
      const late = await call('withdrawAfterSale', {
        requestId: randomUUID(),
        afterSaleId: a.id,
        userId: String(o.buyer),
        reason: '',
      });
      assert.equal(late.err?.code, status.FAILED_PRECONDITION);
      const listed = await call('listOrderAfterSales', {
        orderId: String(o.order.id),
        userId: String(o.buyer),
      });
      assert.deepEqual(
        listed.res.afterSales.map((x: any) => [x.id, x.status]),
        [[a.id, 'REFUNDING']],
      );
      // The whole order over gRPC carries its after-sales too.
      const got = await call('getOrder', { orderId: String(o.order.id), userId: String(o.buyer) });
      assert.deepEqual(
        got.res.order.afterSales.map((x: any) => [x.id, x.status, x.goods, x.total]),
        [[a.id, 'REFUNDING', 'DELIVERED', a.total]],
      );
    } finally {
      await close();
    }
  });
});
