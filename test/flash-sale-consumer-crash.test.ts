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

// A consumer that dies with kill -9 leaves its receives parked at the broker: the broker still takes the
// messages that arrive next for them and hides them from every other consumer for the group's invisible
// time. During a flash sale that time is how late those tickets' orders come.
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
};

describe('flash sale: a consumer killed -9', () => {
  let ctx: ServiceContext;
  const procs: Proc[] = [];
  const start = async (entry: string, port: string) => {
    const p = startProcess(entry, [], env);
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

  it('tickets sent right after the consumer died become orders within the 10 s of the sale target, not after 30 s', async (t) => {
    assert.ok(consumerGroups.flashsale.invisibleMs <= 3000, 'the flash-sale group hides a message longer than 5 s');
    await start('restful/main.ts', '19180');
    const dead = await start('consumer/main.ts', '19182');
    const firstUser = BigInt(Date.now()) * 1000n + 700_000n;
    const [sku] = await makeSkus(ctx, [{ price: 9900, available: UNITS }]);
    const sale = await createFlashSale(ctx, {
      skuId: sku!,
      price: 100,
      stock: UNITS,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000),
      endsAt: new Date(Date.now() + 3600_000),
    });
    const tokens = await Promise.all(
      Array.from({ length: UNITS }, (_, i) =>
        signDevToken(ctx.config.auth, { userId: String(firstUser + BigInt(i)), roles: ['user'] }, 600),
      ),
    );
    await sleep(1500); // its receives are parked at the broker now
    dead.child.kill('SIGKILL');
    await dead.exited;
    const killedAt = Date.now();
    // A supervisor starts the next one; the sale goes on meanwhile.
    let readyAt = 0;
    const next = start('consumer/main.ts', '19182').then(() => {
      readyAt = Date.now();
    });
    let i = 0;
    let soldOutAt = 0;
    const buyer = async () => {
      for (let n = i++; n < UNITS; n = i++) {
        const res = await fetch(`http://127.0.0.1:${PORT}/v1/flash-sales/${sale.id}/purchases`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${tokens[n]}`,
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
    await next;
    const count = async () => {
      const [r] = await ctx.db
        .select({ n: sql<string>`COUNT(*)`, last: sql<Date>`MAX(${flashSaleTickets.createdAt})` })
        .from(flashSaleTickets)
        .where(eq(flashSaleTickets.saleId, sale.id));
      return { n: Number(r?.n ?? 0), last: r?.last };
    };
    const done = await waitFor(`all ${UNITS} tickets ordered`, 60_000, async () => {
      const r = await count();
      return r.n === UNITS ? r : undefined;
    });
    const lastMs = new Date(done.last!).getTime() - soldOutAt;
    t.diagnostic(
      `sold out ${soldOutAt - killedAt} ms after the kill; next consumer ready after ${readyAt - killedAt} ms; last order ${lastMs} ms after sell-out`,
    );
    assert.ok(lastMs < 10_000, `the last order came ${lastMs} ms after sell-out`);
  });
});
