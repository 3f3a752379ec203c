import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { signDevToken } from '../internal/auth/index.js';
import { createFlashSale } from '../internal/flashsale/index.js';
import { flashSaleTickets } from '../internal/model/index.js';
import { consumerGroups } from '../internal/mq/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';
import { type Proc, startProcess, stopWithin } from './helpers/process.js';
import { sleep, waitFor } from './helpers/wait.js';

// The sale's target holds when a process dies at the worst moment: every ticket ORDERED within 10 s of
// sell-out. A consumer that dies with kill -9 leaves its receives parked at the broker, which still takes
// the messages that arrive next for them and hides them for the group's invisible time; a restful process
// that dies loses the tickets it buffered, which the flashsale-requeue job sends again.
const UNITS = 300;
const PORT = 18_661;
const env = {
  QIANFAN_REDIS__KEY_PREFIX: 'qf:order:test:flashcrash:',
  // The chaos namespace: what the killed consumer leaves goes back to its groups, not to qftest's.
  QIANFAN_ROCKETMQ__NAMESPACE: 'qfchaos',
  QIANFAN_HTTP__PORT: String(PORT),
  QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
  QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
  QIANFAN_FLASH_SALE__BATCH_SIZE: '50',
  QIANFAN_FLASH_SALE__BATCH_INTERVAL_MS: '200',
  QIANFAN_ADMIN__RESTFUL_PORT: '19180',
  QIANFAN_ADMIN__CONSUMER_PORT: '19182',
  QIANFAN_ADMIN__JOB_PORT: '19183',
};

describe('flash sale: a process killed -9 near sell-out', () => {
  let ctx: ServiceContext;
  const procs: Proc[] = [];
  /** The consumer left running by the test before, if any. */
  let consumer: Proc | undefined;
  const start = async (entry: string, port: string, extra: NodeJS.ProcessEnv = {}) => {
    const p = startProcess(entry, [], { ...env, ...extra });
    procs.push(p);
    await waitFor(
      `${entry} to be ready`,
      60_000,
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${p.output().slice(-3000)}`);
    });
    return p;
  };

  before(async () => {
    ctx = await createServiceContext(testConfig(env), { process: 'script', mq: false, logger: testLogger });
  });
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await stopWithin(p, 20_000);
    await ctx?.close();
  });

  /** A sale of `units` (limit 1) and a token for each of its buyers. */
  const newSale = async (units: number) => {
    const firstUser = BigInt(Date.now()) * 1000n + 700_000n;
    const [sku] = await makeSkus(ctx, [{ price: 9900, available: units }]);
    const sale = await createFlashSale(ctx, {
      skuId: sku!,
      price: 100,
      stock: units,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000),
      endsAt: new Date(Date.now() + 3600_000),
    });
    const tokens = await Promise.all(
      Array.from({ length: units }, (_, i) =>
        signDevToken(ctx.config.auth, { userId: String(firstUser + BigInt(i)), roles: ['user'] }, 600),
      ),
    );
    return { id: sale.id, tokens };
  };
  /** Every buyer buys one unit through `port`, 16 at a time; resolves with the sell-out time. */
  const sellOut = async (port: number, sale: { id: bigint; tokens: string[] }) => {
    let i = 0;
    let soldOutAt = 0;
    const buyer = async () => {
      for (let n = i++; n < sale.tokens.length; n = i++) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/flash-sales/${sale.id}/purchases`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${sale.tokens[n]}`,
            'idempotency-key': randomUUID(),
            'content-type': 'application/json',
          },
          body: JSON.stringify({ address }),
        });
        assert.equal(res.status, 202, await res.text());
        soldOutAt = Math.max(soldOutAt, Date.now());
      }
    };
    await Promise.all(Array.from({ length: 16 }, buyer));
    return soldOutAt;
  };
  /** The sale's ticket rows: how many, and when the last was written. */
  const ordered = async (saleId: bigint) => {
    const [r] = await ctx.db
      .select({ n: sql<string>`COUNT(*)`, last: sql<Date>`MAX(${flashSaleTickets.createdAt})` })
      .from(flashSaleTickets)
      .where(eq(flashSaleTickets.saleId, saleId));
    return { n: Number(r?.n ?? 0), last: r?.last ? new Date(r.last).getTime() : 0 };
  };
  /** How long after `soldOutAt` the last of the sale's `units` tickets became an order. */
  const lastOrderAfter = async (sale: { id: bigint; tokens: string[] }, soldOutAt: number) => {
    const units = sale.tokens.length;
    const done = await waitFor(`all ${units} tickets ordered`, 60_000, async () => {
      const r = await ordered(sale.id);
      return r.n === units ? r : undefined;
    });
    return done.last - soldOutAt;
  };

  it('tickets sent right after the consumer died become orders within the 10 s of the sale target, not after 30 s', async (t) => {
    assert.ok(consumerGroups.flashsale.invisibleMs <= 3000, 'the flash-sale group hides a message longer than 3 s');
    await start('restful/main.ts', '19180');
    const dead = await start('consumer/main.ts', '19182');
    const sale = await newSale(UNITS);
    await sleep(1500); // its receives are parked at the broker now
    dead.child.kill('SIGKILL');
    await dead.exited;
    const killedAt = Date.now();
    // A supervisor starts the next one; the sale goes on meanwhile.
    let readyAt = 0;
    const next = start('consumer/main.ts', '19182').then((p) => {
      readyAt = Date.now();
      consumer = p;
    });
    const soldOutAt = await sellOut(PORT, sale);
    await next;
    const lastMs = await lastOrderAfter(sale, soldOutAt);
    t.diagnostic(
      `sold out ${soldOutAt - killedAt} ms after the kill; next consumer ready after ${readyAt - killedAt} ms; last order ${lastMs} ms after sell-out`,
    );
    assert.ok(lastMs < 10_000, `the last order came ${lastMs} ms after sell-out`);
  });

  it("tickets a restful process held when it died are sent again by the job and ordered within the sale's 10 s", async (t) => {
    const defaults = testConfig({}).flashSale;
    assert.ok(defaults.requeueAfterSeconds <= 5, `requeueAfterSeconds ${defaults.requeueAfterSeconds}`);
    // The default settings of the job, and a restful process that holds its tickets for a minute.
    const restful = await start('restful/main.ts', '19190', {
      QIANFAN_HTTP__PORT: String(PORT + 1),
      QIANFAN_ADMIN__RESTFUL_PORT: '19190',
      QIANFAN_SERVICE__INSTANCE: '63',
      QIANFAN_FLASH_SALE__BATCH_INTERVAL_MS: '60000',
      QIANFAN_FLASH_SALE__BATCH_SIZE: '1000',
    });
    if (!consumer) await start('consumer/main.ts', '19182');
    await start('job/main.ts', '19183');
    const sale = await newSale(100);
    const soldOutAt = await sellOut(PORT + 1, sale);
    restful.child.kill('SIGKILL');
    await restful.exited;
    assert.equal((await ordered(sale.id)).n, 0, 'the restful process sent its tickets before it died');
    const lastMs = await lastOrderAfter(sale, soldOutAt);
    t.diagnostic(`last order ${lastMs} ms after sell-out`);
    assert.ok(lastMs < 10_000, `the last order came ${lastMs} ms after sell-out`);
  });
});
