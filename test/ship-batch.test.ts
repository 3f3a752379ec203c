import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eq, inArray } from 'drizzle-orm';
import { orders, shipments } from '../internal/model/index.js';
import { createOrder } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig, testEnv } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus, payOrder } from './helpers/orders.js';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['bin/qianfan-order.js', ...args], {
    env: testEnv({ QIANFAN_LOG__LEVEL: 'warn' }),
    encoding: 'utf8',
    timeout: 120_000,
  });

// `qianfan-order order ship-batch`: the whole file is checked before any order ships; a re-run skips
// what shipped already.
describe('order ship-batch from a CSV of tracking numbers (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  const paid: bigint[] = [];
  const tag = `T${Date.now()}`; // tracking numbers are unique: this run's own
  let unpaid: bigint;
  const dir = mkdtempSync(path.join(tmpdir(), 'qf-ship-'));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const statuses = async (ids: bigint[]) =>
    (await ctx.db.select({ id: orders.id, status: orders.status }).from(orders).where(inArray(orders.id, ids))).map(
      (o) => o.status,
    );

  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: true, logger: testLogger });
    const [sku] = await makeSkus(ctx, [{ price: 900, available: 20 }]);
    const userId = BigInt(Date.now()) * 1000n + 600_000n;
    const make = async () =>
      (await createOrder(ctx, { userId, items: [{ skuId: sku!, quantity: 1 }], address })).order.id;
    for (let i = 0; i < 3; i++) {
      const id = await make();
      await payOrder(ctx, id, userId);
      paid.push(id);
    }
    unpaid = await make();
  });
  after(async () => ctx?.close());

  it('reports every bad line with its number and ships nothing', async () => {
    const bad = file(
      'bad.csv',
      [
        'order_id,carrier,tracking_no',
        `${paid[0]},SF,${tag}01`,
        `${paid[1]},SF,x`, // tracking number too short
        `${paid[0]},YTO,${tag}02`, // listed twice
        `${unpaid},SF,${tag}03`, // not paid
        `123,SF,${tag}04`, // no such order
        `abc,SF,${tag}05`,
      ].join('\n'),
    );
    const r = cli(['order', 'ship-batch', bad]);
    assert.equal(r.status, 1, r.stderr);
    for (const expected of [
      /bad\.csv:3: trackingNo must be/,
      /bad\.csv:4: order \d+ is listed twice \(first on line 2\)/,
      /bad\.csv:5: order \d+ is PENDING_PAYMENT; only PAID or PARTIALLY_SHIPPED orders ship/,
      /bad\.csv:6: order 123 does not exist/,
      /bad\.csv:7: order_id 'abc' is not an order id/,
    ])
      assert.match(r.stderr, expected);
    assert.match(r.stderr, /5 bad line\(s\) in .*bad\.csv: nothing was shipped; fix them and run again/);
    assert.deepEqual(await statuses(paid), ['PAID', 'PAID', 'PAID']);
    assert.equal((await ctx.db.select().from(shipments).where(inArray(shipments.orderId, paid))).length, 0);
  });

  it('a good file: the dry run ships nothing, the run ships all, a re-run skips them', async () => {
    const good = file(
      'good.csv',
      `\uFEFForder_id,carrier,tracking_no\r\n${paid.map((id, i) => `${id},SF,${tag}${i}`).join('\r\n')}\r\n`,
    );
    const dry = cli(['order', 'ship-batch', good, '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /3 valid lines: 3 orders would ship, 0 shipped already; nothing changed/);
    assert.deepEqual(await statuses(paid), ['PAID', 'PAID', 'PAID']);

    const run = cli(['order', 'ship-batch', good, '--json']);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { shipped: 3, skipped: 0, failed: [] });
    assert.deepEqual(await statuses(paid), ['SHIPPED', 'SHIPPED', 'SHIPPED']);
    const [parcel] = await ctx.db.select().from(shipments).where(eq(shipments.orderId, paid[2]!));
    assert.deepEqual([parcel?.carrier, parcel?.trackingNo], ['SF', `${tag}2`]);

    const again = cli(['order', 'ship-batch', good, '--json']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), { shipped: 0, skipped: 3, failed: [] });
    // Another parcel for a shipped order is refused in the check.
    const other = cli([
      'order',
      'ship-batch',
      file('other.csv', `order_id,carrier,tracking_no\n${paid[0]},SF,SF777777777\n`),
    ]);
    assert.equal(other.status, 1);
    assert.match(other.stderr, /other\.csv:2: order \d+ is SHIPPED; only PAID or PARTIALLY_SHIPPED orders ship/);
  });
});
