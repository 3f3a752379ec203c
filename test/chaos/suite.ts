import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { signDevToken } from '../../internal/auth/index.js';
import { idTime } from '../../internal/ids/index.js';
import { ConsumerLoop, testGroups } from '../../internal/mq/index.js';
import { ORDER_CREATED_BATCH } from '../../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../../internal/svc/index.js';
import { testConfig } from '../helpers/config.js';
import { testLogger } from '../helpers/logger.js';
import { makeSkus } from '../helpers/orders.js';
import { sleep } from '../helpers/wait.js';
import { call, flashStory, type grpcClient, newLedger, orderStory, prng, type World } from './driver.js';
import { type AuditedEvent, checkInvariants, rows } from './invariants.js';
import {
  canRestartMariaDb,
  freshDatabase,
  Processes,
  type ProcSpec,
  restartBroker,
  restartMariaDb,
  stall,
} from './stack.js';

/** What differs between the chaos suite (one of each process, one Redis) and the scale suite (two of each). */
export interface ChaosStack {
  title: string;
  /** The long-running processes, by name (e.g. `service#2`). */
  specs: Record<string, ProcSpec>;
  /** The environment of the test's own service context (database, Redis, namespace, etcd prefix). */
  env: NodeJS.ProcessEnv;
  redis: {
    start(): Promise<void>;
    /** kill -9 of Redis (or of a master), and back. */
    restart(): Promise<string>;
    /** SIGSTOP of Redis (or of a master) for `ms`; `during` runs meanwhile. */
    stall(ms: number, during: () => Promise<void>): Promise<string>;
    stop(): Promise<void>;
  };
  /** Processes that are also stalled (SIGSTOP for PROCESS_STALL_MS), by name. */
  processStalls?: string[];
  setUp?: () => Promise<void>;
  tearDown?: () => Promise<void>;
  grpc(serviceToken: string): Promise<ReturnType<typeof grpcClient>>;
  /** Further invariants over the processes' output: violations, and lines for the report. */
  check?: (procs: Processes) => { violations: string[]; report: string[] };
}

/**
 * Mixed load on the real stack while every long-running process is killed with SIGKILL and restarted,
 * the broker, MariaDB and Redis are each killed and restarted, and each of them is also stalled
 * (SIGSTOP, then SIGCONT) for longer than the clients' timeouts; then the system settles and the
 * invariants are checked. During the Redis stall, order reads must answer within 2 s. CHAOS_MINUTES (default 1.5) sets how long the load runs (the faults repeat
 * for longer runs); CHAOS_SEED replays the same choices and fault order (`random` picks a new one).
 */
const MINUTES = Number(process.env.CHAOS_MINUTES ?? 1.5);
// A fixed seed unless CHAOS_SEED says otherwise (an integer, or `random`), like the fuzzers.
const SEED =
  process.env.CHAOS_SEED === 'random'
    ? Math.floor(Math.random() * 2 ** 31)
    : process.env.CHAOS_SEED
      ? Number(process.env.CHAOS_SEED)
      : 642_730_228;
const VIRTUAL_USERS = 8;
const CLOSE_INTERVAL_MS = 5_000;
const SETTLE_MS = 180_000;

type Fault = string;
/**
 * How long each stall lasts: past Redis's command timeout (0.5 s), the broker's request timeout (3 s),
 * and MySQL's statement and connection bounds (10 s each), so every one of them fires under the load.
 */
const STALL_MS = { 'stall-redis': 4000, 'stall-mariadb': 12_000, 'stall-broker': 6000 } as const;
const STALL_READ_LIMIT_MS = 2000;
/** A stalled process: longer than the gRPC client's deadline and nginx's read timeout. */
const PROCESS_STALL_MS = 6000;

export function chaosSuite(stack: ChaosStack): void {
  describe(`${stack.title} (${MINUTES} min, seed ${SEED})`, () => {
    let ctx: ServiceContext;
    const procs = new Processes(stack.specs);
    const events: AuditedEvent[] = [];
    let audit: ConsumerLoop | undefined;
    const timeline: string[] = [];
    const t0 = Date.now();
    const mark = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`);

    before(
      async () => {
        await stack.redis.start();
        freshDatabase();
        const config = testConfig({ ...stack.env, QIANFAN_SERVICE__INSTANCE: '100' });
        ctx = await createServiceContext(config, { process: 'script', mq: false, logger: testLogger });
        for (const p of procs.names) procs.start(p);
        await Promise.all(procs.names.map((p) => procs.ready(p)));
        await stack.setUp?.();
        const firstId = ctx.ids.next();
        audit = new ConsumerLoop({
          ...config.rocketmq,
          group: testGroups.chaosAudit.name,
          topic: testGroups.chaosAudit.topic,
          awaitMs: 4000,
          invisibleMs: 10_000,
          logger: testLogger,
          metrics: ctx.metrics,
          handler: async (envelope, meta) => {
            // An order.created.batch carries several orders' events: each is audited as its own event.
            const inner =
              envelope.type === ORDER_CREATED_BATCH
                ? (envelope.data as { events: Array<{ eventId: string; data: unknown }> }).events
                : [envelope];
            for (const e of inner) {
              // After-sale events share the topic but count their own versions: not order transitions.
              if (!envelope.type.startsWith('order.')) continue;
              const d = e.data as { orderId?: unknown; version: number; status: string };
              // Not this run's order event: left on this broker by an earlier run, or not an order event at
              // all (throwing would only have the broker redeliver it, again and again).
              if (typeof d?.orderId !== 'string' || BigInt(d.orderId) < firstId) continue;
              // Nor one made by a process whose clock ran ahead (a test that moves the clock): not this run's.
              if (idTime(BigInt(d.orderId)).getTime() > Date.now() + 60_000) continue;
              events.push({
                eventId: e.eventId,
                messageId: meta.messageId,
                orderId: d.orderId,
                version: d.version,
                status: d.status,
              });
            }
          },
        });
        await audit.start();
        mark('stack up');
      },
      { timeout: 300_000 },
    );

    after(async () => {
      await audit?.stop().catch(() => undefined);
      await stack.tearDown?.();
      await procs.stopAll();
      await stack.redis.stop().catch(() => undefined);
      await ctx?.close();
    });

    it('keeps every invariant', { timeout: (MINUTES * 60 + 900) * 1000 }, async (t) => {
      const rng = prng(SEED);
      const ledger = newLedger();
      const initialStock = new Map<string, number>();
      const skuIds = await makeSkus(ctx, [
        { price: 1000, available: 500 },
        { price: 2500, available: 500 },
        { price: 399, available: 500 },
        { price: 12_000, available: 500 },
        { price: 5000, available: 200 },
      ]);
      for (const id of skuIds) initialStock.set(String(id), id === skuIds[4] ? 200 : 500);
      const admin = await signDevToken(ctx.config.auth, { userId: '1', roles: ['admin'] }, 3600);
      const sale = await call(ledger, 'POST', '/v1/admin/flash-sales', {
        token: admin,
        key: `chaos-sale-${SEED}`,
        body: {
          skuId: String(skuIds[4]),
          price: 99,
          stock: 30,
          perUserLimit: 1,
          startsAt: new Date(Date.now() - 1000).toISOString(),
          endsAt: new Date(Date.now() + 3600_000).toISOString(),
        },
      });
      assert.equal(sale?.status, 201, JSON.stringify(sale));
      let userSeq = BigInt(Date.now()) * 1000n;
      const tokens = new Map<string, string>();
      const grpc = await stack.grpc(ctx.config.grpc.serviceTokens[0]!.token);
      const w: World = {
        ledger,
        rng,
        skus: skuIds.slice(0, 4).map(String),
        saleId: sale!.body.id,
        admin,
        grpc,
        nextUser: () => String(++userSeq),
        tokenOf: async (userId) => {
          const known = tokens.get(userId);
          if (known) return known;
          const minted = await signDevToken(ctx.config.auth, { userId, roles: ['user'] }, 3600);
          tokens.set(userId, minted);
          return minted;
        },
      };

      // The fault schedule: each round kills every process and restarts each dependency once, in an order
      // the seed picks, spread evenly over the load.
      const loadMs = MINUTES * 60_000;
      const kinds: Fault[] = [
        ...procs.names,
        ...(stack.processStalls ?? []).map((p) => `stall-${p}`),
        'broker',
        'redis',
        'stall-redis',
        'stall-broker',
        ...(canRestartMariaDb() ? (['mariadb', 'stall-mariadb'] as const) : []),
      ];
      if (!kinds.includes('mariadb'))
        t.diagnostic('MariaDB is not a local mariadbd this process may signal: its restart is skipped');
      const rounds = Math.max(1, Math.floor(loadMs / (kinds.length * 10_000)));
      const faults: Fault[] = [];
      for (let r = 0; r < rounds; r++) {
        const round = [...kinds];
        for (let i = round.length - 1; i > 0; i--) {
          const j = rng.int(0, i);
          [round[i], round[j]] = [round[j]!, round[i]!];
        }
        faults.push(...round);
      }
      // Order reads while Redis is stopped: each must answer (from MySQL) within STALL_READ_LIMIT_MS.
      const stallReads: Array<{ ms: number; status: number }> = [];
      const readsDuringStall = async (world: World) => {
        const known = world.ledger.creates.find((c) => c.orderId && c.via === 'http');
        if (!known) return;
        const token = await world.tokenOf(known.userId);
        for (let i = 0; i < 5; i++) {
          const started = Date.now();
          const res = await fetch(`http://127.0.0.1:18888/v1/orders/${known.orderId}`, {
            headers: { authorization: `Bearer ${token}` },
            signal: AbortSignal.timeout(15_000),
          }).catch(() => undefined);
          await res?.arrayBuffer();
          stallReads.push({ ms: Date.now() - started, status: res?.status ?? 0 });
          await sleep(300);
        }
      };
      const start = Date.now();
      const loadEnd = start + loadMs;
      const injector = (async () => {
        for (let i = 0; i < faults.length; i++) {
          const at = start + ((i + 1) * loadMs) / (faults.length + 1);
          await sleep(Math.max(0, at - Date.now()));
          const f = faults[i]!;
          if (f === 'stall-redis') {
            mark(`SIGSTOP redis for ${STALL_MS[f] / 1000} s`);
            mark(`SIGCONT ${await stack.redis.stall(STALL_MS[f], () => readsDuringStall(w))}`);
            continue;
          }
          if (f.startsWith('stall-') && procs.names.includes(f.slice(6))) {
            const p = procs.procs.get(f.slice(6))!;
            mark(`SIGSTOP ${f.slice(6)} for ${PROCESS_STALL_MS / 1000} s`);
            p.child.kill('SIGSTOP');
            await sleep(PROCESS_STALL_MS);
            p.child.kill('SIGCONT');
            mark(`SIGCONT ${f.slice(6)}`);
            continue;
          }
          if (f === 'stall-mariadb' || f === 'stall-broker') {
            const what = f === 'stall-mariadb' ? 'mariadb' : 'broker';
            mark(`SIGSTOP ${what} for ${STALL_MS[f] / 1000} s`);
            await stall(what, STALL_MS[f]);
            mark(`SIGCONT ${what}`);
            continue;
          }
          mark(`kill -9 ${f}`);
          if (f === 'broker') await restartBroker();
          else if (f === 'mariadb') await restartMariaDb();
          else if (f === 'redis') mark(await stack.redis.restart());
          else {
            await procs.kill9(f);
            await sleep(rng.int(300, 3000));
            procs.start(f);
            await procs.ready(f, 90_000);
          }
          mark(`${f} back`);
        }
      })();
      const users = Array.from({ length: VIRTUAL_USERS }, () => w.nextUser());
      const load = users.map(async (userId) => {
        while (Date.now() < loadEnd) {
          if (rng.chance(0.2)) await flashStory(w);
          else await orderStory(w, userId);
        }
      });
      await Promise.all([injector, ...load]);
      mark(`load over: ${ledger.requests} requests (${ledger.retried} retries, ${ledger.unanswered} never answered)`);

      // Settle: the provider confirms refunds (the sandbox payer plays it), jobs close what expired, queues drain.
      const settleEnd = Date.now() + SETTLE_MS;
      let waiting = '';
      for (;;) {
        const pendingRefunds = await q(`SELECT DISTINCT order_id FROM refunds WHERE status = 'PENDING'`);
        for (const r of pendingRefunds) await call(ledger, 'POST', `/v1/sandbox/orders/${r.order_id}/refunds/confirm`);
        const [counts] = await q(`SELECT
        (SELECT COUNT(*) FROM orders WHERE status = 'PENDING_PAYMENT') AS pending,
        (SELECT COUNT(*) FROM orders WHERE status = 'REFUNDING') AS refunding,
        (SELECT COUNT(*) FROM refunds WHERE status <> 'SUCCEEDED') AS refunds,
        (SELECT COUNT(*) FROM order_status_log) AS transitions`);
        const queued = await ctx.redis.zcard(`fs:{${w.saleId}}:queued`);
        const published = new Set(events.map((e) => `${e.orderId}/${e.version}`)).size;
        waiting = `pending ${counts.pending}, refunding ${counts.refunding}, open refunds ${counts.refunds}, queued tickets ${queued}, events ${published}/${counts.transitions}`;
        const settled =
          Number(counts.pending) === 0 &&
          Number(counts.refunding) === 0 &&
          Number(counts.refunds) === 0 &&
          queued === 0 &&
          published >= Number(counts.transitions);
        if (settled || Date.now() > settleEnd) break;
        await sleep(3000);
      }
      await sleep(5000); // late duplicates, if any, arrive too
      mark(`settled (${waiting})`);

      const violations = await checkInvariants(ctx, {
        ledger,
        initialStock,
        saleId: w.saleId,
        events,
        closeIntervalMs: CLOSE_INTERVAL_MS,
        startedAt: t0,
      });
      grpc.close();
      const [summary] = await q(`SELECT
      (SELECT COUNT(*) FROM orders) AS orders,
      (SELECT COUNT(*) FROM orders WHERE status IN ('PAID','PARTIALLY_SHIPPED','SHIPPED','DELIVERED','COMPLETED')) AS kept,
      (SELECT COUNT(*) FROM orders WHERE status = 'CANCELLED') AS cancelled,
      (SELECT COUNT(*) FROM orders WHERE status = 'REFUNDED') AS refunded,
      (SELECT COUNT(*) FROM refunds WHERE kind = 'AUTO_UNKEPT_PAYMENT') AS unkept,
      (SELECT COUNT(*) FROM flash_sale_tickets) AS tickets,
      (SELECT COUNT(*) FROM order_status_log) AS transitions`);
      t.diagnostic(`seed ${SEED}; ${JSON.stringify(summary)}; ${events.length} events received`);
      t.diagnostic(
        `requests ${ledger.requests}, retries ${ledger.retried}, never answered ${ledger.unanswered}; creates ${ledger.creates.length}, purchases ${ledger.purchases.length}`,
      );
      for (const line of timeline) t.diagnostic(line);
      const extra = stack.check?.(procs) ?? { violations: [], report: [] };
      for (const line of extra.report) t.diagnostic(line);
      for (const line of ledger.gaveUp) t.diagnostic(`never answered: ${line}`);
      t.diagnostic(
        `order reads during the Redis stall: ${stallReads.map((r) => `${r.status} in ${r.ms} ms`).join(', ')}`,
      );
      assert.deepEqual(procs.crashes, [], 'a process exited by itself');
      assert.ok(stallReads.length > 0, 'no order was read during the Redis stall');
      assert.deepEqual(
        stallReads.filter((r) => r.status !== 200 || r.ms > STALL_READ_LIMIT_MS),
        [],
        `order reads during the Redis stall must answer 200 within ${STALL_READ_LIMIT_MS} ms`,
      );
      assert.ok(Number(summary.orders) > 50, `too little load to prove anything: ${summary.orders} orders`);
      // A client that retries with its key for a minute is answered, even when a crash held the key.
      assert.deepEqual(ledger.gaveUp, [], 'requests never answered within a minute of retries');
      assert.deepEqual(extra.violations, [], 'process-level invariants');
      assert.deepEqual(
        violations,
        [],
        `seed ${SEED} violated:\n${violations.map((v) => `- ${v.invariant}: ${v.detail} [${v.ids.join(', ')}]`).join('\n')}`,
      );
    });

    const q = (text: string) => rows(ctx, sql.raw(text));
  });
}
