import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { cacheAside } from '../../internal/cache/index.js';
import { createFlashSale, purchase, saleKeys } from '../../internal/flashsale/index.js';
import { rateLimiter } from '../../internal/ratelimit/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';
import { address, makeSkus } from '../helpers/orders.js';
import {
  clusterCli as cli,
  masterPid,
  clusterNodes as nodes,
  restartClusterNode,
  servingOf,
} from '../helpers/redis-cluster.js';
import { sleep, waitFor } from '../helpers/wait.js';

// Run by deploy/local/test.sh's cluster phase: QIANFAN_REDIS__CLUSTER_NODES names the local cluster
// (deploy/local/redis-cluster.sh: 3 masters, 3 replicas, cluster-node-timeout 3 s).
const SEEDS = process.env.QIANFAN_REDIS__CLUSTER_NODES ?? '';
const STOCK = 100_000;
const LIMIT = 40;
const WINDOW_MS = 120_000;

describe('Redis Cluster: purchases, cache reads and limiter claims across a master failover', () => {
  let ctx: ServiceContext;
  let saleId: bigint;
  let nextUser = BigInt(Date.now()) * 1000n + 700_000n;

  before(async () => {
    assert.ok(SEEDS, 'set QIANFAN_REDIS__CLUSTER_NODES (bash deploy/local/redis-cluster.sh up; it prints the value)');
    ctx = await createServiceContext(
      testConfig({ QIANFAN_REDIS__KEY_PREFIX: `qf:order:test:cluster:${Date.now()}:` }),
      {
        process: 'restful',
        logger: testLogger,
      },
    );
    const [sku] = await makeSkus(ctx, [{ price: 9900, available: STOCK }]);
    const sale = await createFlashSale(ctx, {
      skuId: sku!,
      price: 100,
      stock: STOCK,
      perUserLimit: 1,
      startsAt: new Date(Date.now() - 1000),
      endsAt: new Date(Date.now() + 3600_000),
    });
    saleId = sale.id;
  });
  after(async () => {
    await ctx?.close();
  });

  /** Purchases, limiter hits and cache reads from a few concurrent loops until `stop()`. */
  function load() {
    const limiter = rateLimiter(ctx.redis);
    const cache = cacheAside<{ v: number }>(ctx.redis, {
      prefix: `cache:${randomUUID()}:`,
      ttlSeconds: 60,
      jitterSeconds: 0,
      notFoundTtlSeconds: 5,
      encode: JSON.stringify,
      decode: JSON.parse,
      versionOf: (d) => d.v,
    });
    const limiterKeys = Array.from({ length: 12 }, () => `ip:${randomUUID()}`);
    const stats = {
      ok: 0,
      failed: 0,
      slowest: 0,
      queued: [] as string[],
      allowed: new Map<string, number>(),
      wrong: 0,
    };
    let running = true;
    // Each loop pauses a moment between calls, as a client would: a call refused at once (Redis bypassed,
    // or a limiter decision made locally) must not spin the event loop.
    const timed = async (fn: () => Promise<void>) => {
      const t = performance.now();
      try {
        await fn();
        stats.ok++;
      } catch {
        stats.failed++;
      }
      stats.slowest = Math.max(stats.slowest, performance.now() - t);
      await sleep(stats.failed > 0 && performance.now() - t < 5 ? 20 : 1);
    };
    const loops = [
      ...Array.from({ length: 4 }, async () => {
        while (running)
          await timed(async () => {
            const r = await purchase(ctx, {
              saleId,
              userId: ++nextUser,
              quantity: 1,
              address,
              idempotencyKey: randomUUID(),
              enqueue: async () => {},
            });
            stats.queued.push(r.ticketId);
          });
      }),
      (async () => {
        for (let i = 0; running; i++) {
          const key = limiterKeys[i % limiterKeys.length]!;
          await timed(async () => {
            // Counted per key and window: a run that crosses a window boundary may rightly allow LIMIT in each.
            const now = Date.now();
            const counted = `${key}@${Math.floor(now / WINDOW_MS)}`;
            if ((await limiter.hit(key, LIMIT, WINDOW_MS, now)).allowed)
              stats.allowed.set(counted, (stats.allowed.get(counted) ?? 0) + 1);
          });
        }
      })(),
      (async () => {
        for (let i = 0; running; i++) {
          const n = i % 40;
          await timed(async () => {
            if ((await cache.get(`k${n}`, async () => ({ v: n })))?.v !== n) stats.wrong++;
          });
        }
      })(),
    ];
    return {
      stats,
      async stop() {
        running = false;
        await Promise.all(loops);
      },
    };
  }

  /** Redis's own record of the sale: the stock and the buyers' units always add up to the sale's stock. */
  async function saleState() {
    const k = saleKeys(saleId);
    const stock = Number(await ctx.redis.get(k.stock));
    const users = Object.values(await ctx.redis.hgetall(k.users)).reduce((n, v) => n + Number(v), 0);
    const tickets = await ctx.redis.hlen(k.tickets);
    return { stock, users, tickets };
  }

  /**
   * The sale adds up in Redis, every purchase answered QUEUED has its ticket there, and no cache read
   * returned another key's value.
   */
  async function assertNothingLost(stats: { queued: string[]; wrong: number }) {
    const s = await saleState();
    assert.equal(s.stock + s.users, STOCK, JSON.stringify(s));
    assert.equal(s.tickets, s.users);
    const seqs = stats.queued.map((t) => t.split('-')[1]!);
    const present = seqs.length ? await ctx.redis.hmget(saleKeys(saleId).tickets, ...seqs) : [];
    assert.equal(present.filter((v) => v === null).length, 0, 'a queued ticket is missing from Redis');
    assert.equal(stats.wrong, 0, 'a cache read returned another key’s value');
  }

  it('resharding: the sale’s slot moves to another master under load (ASK while it migrates, then MOVED); nothing is lost', async () => {
    const key = `qf:order:test:cluster:x:fs:{${saleId}}:stock`;
    const { master: src } = servingOf(key);
    const dst = nodes().find((n) => n.master && n.port !== src.port)!;
    const slot = Number(cli(src.port, 'cluster', 'keyslot', key));
    const l = load();
    await sleep(1000);
    // The steps of `redis-cli --cluster reshard`, for this one slot.
    cli(dst.port, 'cluster', 'setslot', String(slot), 'importing', src.id);
    cli(src.port, 'cluster', 'setslot', String(slot), 'migrating', dst.id);
    let moved = 0;
    for (;;) {
      const keys = cli(src.port, 'cluster', 'getkeysinslot', String(slot), '20').split('\n').filter(Boolean);
      if (keys.length === 0) break;
      cli(src.port, 'migrate', '127.0.0.1', String(dst.port), '', '0', '5000', 'keys', ...keys);
      moved += keys.length;
      await sleep(50); // purchases run between the batches: some meet the slot half moved
    }
    for (const n of nodes().filter((x) => x.master)) cli(n.port, 'cluster', 'setslot', String(slot), 'node', dst.id);
    const movedAt = l.stats.ok;
    await sleep(2000);
    await l.stop();
    assert.ok(moved > 0, 'nothing was migrated');
    assert.equal(servingOf(key).master.port, dst.port, 'the slot did not move');
    assert.ok(l.stats.ok > movedAt, 'calls succeed after the move');
    await assertNothingLost(l.stats);
    assert.ok(l.stats.slowest < 5000, `an operation waited ${Math.round(l.stats.slowest)} ms`);
    testLogger.info({ slot, from: src.port, to: dst.port, moved, ok: l.stats.ok, failed: l.stats.failed }, 'resharded');
  });

  it('CLUSTER FAILOVER (a planned switch): nothing is lost, nothing waits past its bound, limits hold', async () => {
    const { master, replica } = servingOf(`qf:order:test:cluster:x:fs:{${saleId}}:stock`);
    const l = load();
    await sleep(1500);
    cli(replica.port, 'cluster', 'failover');
    await waitFor(
      'the replica to take over',
      20_000,
      () => nodes().find((n) => n.port === replica.port)?.master === true,
    );
    await sleep(2000);
    await l.stop();
    // A planned failover loses no acknowledged write.
    await assertNothingLost(l.stats);
    for (const [key, n] of l.stats.allowed) assert.ok(n <= LIMIT, `${key}: ${n} allowed over a limit of ${LIMIT}`);
    assert.ok(l.stats.ok > 100, JSON.stringify({ ...l.stats, queued: l.stats.queued.length }));
    assert.ok(l.stats.slowest < 5000, `an operation waited ${Math.round(l.stats.slowest)} ms`);
    testLogger.info({ master: master.port, replica: replica.port, ok: l.stats.ok, failed: l.stats.failed }, 'failover');
  });

  it('kill -9 of the master: calls fail fast until the replica is promoted, then succeed; the sale adds up', async () => {
    const { master, replica } = servingOf(`qf:order:test:cluster:x:fs:{${saleId}}:stock`);
    const l = load();
    await sleep(1000);
    const pid = masterPid(master.port);
    process.kill(pid, 'SIGKILL');
    const killedAt = Date.now();
    await waitFor('the replica promoted', 30_000, () => nodes().find((n) => n.port === replica.port)?.master === true);
    const before = l.stats.ok;
    const promotedMs = Date.now() - killedAt;
    await sleep(3000);
    const afterPromotion = l.stats.ok;
    await l.stop();
    restartClusterNode(master.port);
    assert.ok(afterPromotion > before, 'calls succeed again after the promotion');
    assert.ok(l.stats.slowest < 5000, `an operation waited ${Math.round(l.stats.slowest)} ms`);
    const s = await saleState();
    assert.equal(s.stock + s.users, STOCK, JSON.stringify(s));
    assert.equal(s.tickets, s.users);
    assert.equal(l.stats.wrong, 0);
    testLogger.info({ promotedMs, ok: l.stats.ok, failed: l.stats.failed }, 'master killed');
  });
});
