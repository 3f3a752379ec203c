import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { deadLetterHooks, dlqReader } from '../consumer/dead-letters.js';
import { replayDeadLetters, resolveIfReplayed } from '../internal/deadletter/index.js';
import { AppError } from '../internal/errorx/index.js';
import { deadLetters } from '../internal/model/index.js';
import {
  ConsumerLoop,
  classifyFailure,
  consumerGroups,
  decodeEnvelope,
  describeFailure,
  type Envelope,
  newEnvelope,
  RetryLaterError,
  retryBackoff,
  SCHEMA_VERSION,
  testGroups,
  testTopics,
} from '../internal/mq/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { createLogger } from '../internal/telemetry/index.js';
import { stall } from './chaos/stack.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { sleep, waitFor } from './helpers/wait.js';

describe('consumer loop: lanes, retries and the broker DLQ (real RocketMQ, MariaDB)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'consumer', mq: true, logger: testLogger });
  });
  after(async () => ctx?.close());

  const loopOn = (
    group: { name: string; topic: string },
    handler: (env: Envelope) => Promise<void>,
    extra: Partial<ConstructorParameters<typeof ConsumerLoop>[0]> = {},
  ) =>
    new ConsumerLoop({
      ...ctx.config.rocketmq,
      ...deadLetterHooks(ctx),
      concurrency: 2,
      group: group.name,
      topic: group.topic,
      awaitMs: 4000,
      invisibleMs: 10_000,
      backoffMs: () => 1000,
      handler: async (env) => handler(env),
      logger: testLogger,
      metrics: ctx.metrics,
      ...extra,
    });

  it('a transient failure holds back only its own message group, and later messages never overtake it', async () => {
    const run = randomUUID();
    const applied: string[] = [];
    let failedOnce = false;
    const loop = loopOn(testGroups.fifo, async (env) => {
      const d = env.data as { run?: string; group: string; n: number };
      if (d.run !== run) return; // left over from other runs
      if (d.group === 'slow' && d.n === 1 && !failedOnce) {
        failedOnce = true;
        throw new Error('database is busy'); // transient: retried after the back-off
      }
      applied.push(`${d.group}:${d.n}`);
    });
    await loop.start();
    try {
      for (const group of ['slow', 'fast']) {
        for (let n = 1; n <= 3; n++) {
          await ctx.mq!.send({
            topic: testTopics.fifo.name,
            envelope: newEnvelope('test.fifo', { run, group, n }),
            messageGroup: `${run}-${group}`,
          });
        }
      }
      await waitFor('all six messages', 30_000, () => applied.length === 6);
      assert.deepEqual(
        applied.filter((a) => a.startsWith('slow')),
        ['slow:1', 'slow:2', 'slow:3'],
        'a later message of a group was applied before the one being retried',
      );
      assert.deepEqual(
        applied.filter((a) => a.startsWith('fast')),
        ['fast:1', 'fast:2', 'fast:3'],
      );
      assert.ok(failedOnce);
    } finally {
      await loop.stop();
    }
  });

  it('a lane held past the invisible time keeps its messages invisible: none is redelivered, the group stays in order', async () => {
    const run = randomUUID();
    const seen: string[] = [];
    const loop = loopOn(testGroups.fifo, async () => {}, {
      invisibleMs: 3000,
      handler: async (env, meta) => {
        const d = env.data as { run?: string; n: number };
        if (d.run !== run) return;
        seen.push(`${d.n}@${meta.deliveryAttempt}`);
        if (d.n === 1) await sleep(8000); // well past the 3 s invisible time
      },
    });
    await loop.start();
    try {
      for (let n = 1; n <= 3; n++) {
        await ctx.mq!.send({
          topic: testTopics.fifo.name,
          envelope: newEnvelope('test.fifo', { run, n }),
          messageGroup: `${run}-long`,
        });
      }
      await waitFor('all three messages', 40_000, () => seen.length >= 3);
      await sleep(4000); // a redelivery would show up here
      assert.deepEqual(seen, ['1@1', '2@1', '3@1']);
    } finally {
      await loop.stop();
    }
  });

  it('a stopped loop leaves no receive parked at the broker: messages sent right after the stop reach the next consumer at once, not after the invisible time', async () => {
    // A receive long-polls at the broker for up to awaitMs. Had the loop shut down with its receives
    // parked, the broker would still pop what arrives next for them and keep it invisible (20 s here)
    // from every other consumer: a rolling restart would delay messages by the invisible time.
    const run = randomUUID();
    const handledBy: Record<string, string> = {};
    const loopNamed = (name: string) =>
      loopOn(testGroups.normal, async () => {}, {
        concurrency: 4,
        invisibleMs: 20_000,
        handler: async (env) => {
          const d = env.data as { run?: string; n: number };
          if (d.run === run) handledBy[d.n] = name;
        },
      });
    const first = loopNamed('first');
    await first.start();
    await sleep(1000); // its four receives are parked now
    const stopped = first.stop();
    await sleep(200);
    const sentAt = Date.now();
    for (let n = 1; n <= 12; n++) {
      await ctx.mq!.send({ topic: testTopics.normal.name, envelope: newEnvelope('test.normal', { run, n }) });
    }
    await stopped;
    const second = loopNamed('second');
    await second.start();
    try {
      await waitFor('all twelve messages', 40_000, () => Object.keys(handledBy).length === 12);
      const tookMs = Date.now() - sentAt;
      // Within the stop's own bound (awaitMs 4 s + request timeout) plus handling: far below the 20 s.
      assert.ok(tookMs < 12_000, `the last message was handled ${tookMs} ms after it was sent`);
    } finally {
      await second.stop();
    }
  });

  it('a loop stops within its own bounds while the broker is stalled', async () => {
    const loop = loopOn(testGroups.normal, async () => {});
    await loop.start();
    await sleep(500);
    let ms = 0;
    await stall('broker', 14_000, async () => {
      const t = Date.now();
      await loop.stop(); // its receives time out (awaitMs + request timeout); leaving is not answered
      ms = Date.now() - t;
    });
    // awaitMs (4 s here) plus the request timeout for the receives, one more for the leaving call.
    assert.ok(ms < 4000 + 2 * ctx.config.rocketmq.requestTimeoutMs + 1000, `stop took ${ms} ms`);
  });

  it('receives that fail while the broker is stalled are counted for the alert, and the loop receives again afterwards', async () => {
    const run = randomUUID();
    const got = new Set<number>();
    const loop = loopOn(testGroups.normal, async () => {}, {
      handler: async (env) => {
        const d = env.data as { run?: string; n: number };
        if (d.run === run) got.add(d.n);
      },
    });
    const failures = async () => {
      const m = await ctx.metrics.getSingleMetric('qianfan_mq_receive_failures_total')?.get();
      return m?.values.find((v) => v.labels.group === testGroups.normal.name)?.value ?? 0;
    };
    const before = await failures();
    await loop.start();
    try {
      // An idle, healthy broker: long polls that end empty are not failures (the alert would page).
      await sleep(9000);
      assert.equal(await failures(), before, 'empty long polls were counted as failures');
      // Longer than a receive's own bound (awaitMs 4 s + the request timeout), so the parked ones fail.
      await stall('broker', 4000 + ctx.config.rocketmq.requestTimeoutMs + 3000);
      await waitFor('a failed receive to be counted', 10_000, async () => (await failures()) > before);
      await ctx.mq!.send({ topic: testTopics.normal.name, envelope: newEnvelope('test.normal', { run, n: 1 }) });
      await waitFor('the message sent after the stall', 30_000, () => got.has(1));
    } finally {
      await loop.stop();
    }
  });

  it("a proxy refusing the group's invisible time as too small: the loop asks for the proxy's minimum, says so once and keeps consuming", async () => {
    // The lab proxy's minInvisibleTimeMillsForRecv is 1 s (deploy/rocketmq/rocketmq.sh); a stock proxy's is 10 s.
    const lines: Array<{ msg: string; minMs?: number }> = [];
    const logger = createLogger({
      service: 'qianfan-order',
      process: 'consumer',
      level: 'warn',
      stream: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    const run = randomUUID();
    const got = new Set<number>();
    const loop = loopOn(testGroups.normal, async () => {}, {
      concurrency: 4,
      invisibleMs: 500,
      logger,
      handler: async (env) => {
        const d = env.data as { run?: string; n: number };
        if (d.run === run) got.add(d.n);
      },
    });
    await loop.start();
    try {
      for (let n = 1; n <= 5; n++) {
        await ctx.mq!.send({ topic: testTopics.normal.name, envelope: newEnvelope('test.normal', { run, n }) });
      }
      await waitFor('all five messages', 20_000, () => got.size === 5);
    } finally {
      await loop.stop();
    }
    const raised = lines.filter((l) => /refuses this group's invisible time/.test(l.msg));
    assert.equal(raised.length, 1, JSON.stringify(lines));
    assert.equal(raised[0]!.minMs, 1000);
    assert.deepEqual(
      lines.filter((l) => /receive failed/.test(l.msg)),
      [],
    );
  });

  it('retries that run out reach %DLQ%<group>; the DLQ reader records them; a replay resolves them', async () => {
    const run = randomUUID();
    let healthy = false;
    const seen = new Map<string, number>();
    const failing = loopOn(testGroups.retry, async (env) => {
      const d = env.data as { run?: string };
      if (d.run !== run) return;
      seen.set(env.eventId, (seen.get(env.eventId) ?? 0) + 1);
      if (!healthy) throw new Error('downstream unavailable');
    });
    const r = dlqReader(testGroups.retry);
    const reader = new ConsumerLoop({
      ...ctx.config.rocketmq,
      group: r.group,
      topic: r.topic,
      awaitMs: 4000,
      handler: r.handler(ctx),
      park: r.park(ctx),
      logger: testLogger,
      metrics: ctx.metrics,
    });
    await failing.start();
    await reader.start();
    try {
      const envelope = newEnvelope('test.retry', { run });
      await ctx.mq!.send({ topic: testTopics.retry.name, envelope, key: run, messageGroup: run });
      const letter = await waitFor(
        'the DLQ reader to record the message',
        90_000,
        async () => {
          const [row] = await ctx.db.select().from(deadLetters).where(eq(deadLetters.eventId, envelope.eventId));
          return row;
        },
        500,
      );
      assert.equal(letter.source, 'DLQ');
      assert.equal(letter.status, 'PARKED');
      assert.equal(letter.topic, testTopics.retry.name);
      assert.equal(letter.consumerGroup, testGroups.retry.name);
      assert.equal(letter.errorCode, 'RETRIES_EXHAUSTED');
      assert.equal(letter.messageKey, run);
      assert.ok((seen.get(envelope.eventId) ?? 0) >= 2, 'the message was not retried before the DLQ');

      healthy = true; // the downstream recovered: an operator replays the letter
      const res = await replayDeadLetters(ctx, { ids: [letter.id] });
      assert.deepEqual(res.replayed, [String(letter.id)]);
      await waitFor('the replay to be resolved', 30_000, async () => {
        const [row] = await ctx.db.select().from(deadLetters).where(eq(deadLetters.id, letter.id));
        return row?.status === 'RESOLVED';
      });
      const metrics = await ctx.metrics.getSingleMetricAsString('qianfan_mq_dead_letters_total');
      assert.match(metrics, /source="DLQ"/);
    } finally {
      await failing.stop();
      await reader.stop();
    }
  });

  it('a replay marks the letter REPLAYED before sending: a consumer resolving it at once is not lost; a failed send parks it again', async () => {
    const parked = async () => {
      const id = ctx.ids.next();
      const now = new Date();
      await ctx.db.insert(deadLetters).values({
        id,
        source: 'PARKED',
        messageId: `m-${id}`,
        eventId: `e-${id}`,
        topic: testTopics.retry.name,
        consumerGroup: testGroups.retry.name,
        body: JSON.stringify(newEnvelope('test.retry', { run: String(id) })),
        errorCode: 'INTERNAL',
        status: 'PARKED',
        firstSeenAt: now,
        lastSeenAt: now,
      });
      return id;
    };
    const statusOf = async (id: bigint) =>
      (await ctx.db.select().from(deadLetters).where(eq(deadLetters.id, id)))[0]!.status;
    // The fastest consumer there is: it applies the replayed message while the send is still returning.
    const instant = {
      ...ctx,
      mq: { send: async (m: { properties?: Record<string, string> }) => resolveIfReplayed(ctx, m.properties ?? {}) },
    };
    const fast = await parked();
    await replayDeadLetters(instant as unknown as typeof ctx, { ids: [fast] });
    assert.equal(await statusOf(fast), 'RESOLVED');

    const refused = { ...ctx, mq: { send: async () => Promise.reject(new Error('broker unreachable')) } };
    const lost = await parked();
    await assert.rejects(replayDeadLetters(refused as unknown as typeof ctx, { ids: [lost] }), /broker unreachable/);
    assert.equal(await statusOf(lost), 'PARKED');
  });
});

describe('retry schedules of the consumer groups', () => {
  const span = (g: { maxRetries: number; retryBackoffMaxMs: number }) => {
    let ms = 0;
    for (let attempt = 1; attempt <= g.maxRetries; attempt++) ms += retryBackoff(g)(attempt);
    return ms;
  };
  it('payment and delivery results ride out a 20-minute outage, waiting up to minutes between tries', () => {
    for (const g of [consumerGroups.payment, consumerGroups.delivery]) {
      assert.ok(span(g) >= 20 * 60_000, `${g.name} gives up after ${Math.round(span(g) / 60_000)} min`);
      assert.ok(retryBackoff(g)(g.maxRetries) >= 60_000, `${g.name} retries too often`);
      assert.equal(retryBackoff(g)(1), 1000, 'the first retry comes soon');
    }
    // The backstopped groups (order timeouts: the close job; tickets: flashsale-requeue) stay short.
    assert.ok(span(consumerGroups.timeout) < 5 * 60_000);
  });

  it('only an outage waits minutes: a failure of the message itself retries within 10 s, not holding its FIFO queue', () => {
    const wait = retryBackoff(consumerGroups.payment);
    const outages: unknown[] = [
      new AppError('DEPENDENCY_UNAVAILABLE', 'the broker is down'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3306'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('Connection lost: The server closed the connection.'), {
        code: 'PROTOCOL_CONNECTION_LOST',
        fatal: true,
      }),
      new Error('Command timed out'),
      Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 }),
    ];
    for (const err of outages) assert.equal(wait(12, err), 120_000, String(err));
    for (const err of [
      new Error('a bug'),
      new AppError('CONCURRENT_MODIFICATION', 'raced'),
      new RetryLaterError('not yet'),
    ]) {
      assert.equal(wait(12, err), 10_000, String(err));
    }
  });
});

describe('failure classes of envelopes', () => {
  const classOf = (body: unknown) => {
    try {
      decodeEnvelope(Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)));
      return 'ok';
    } catch (err) {
      return `${classifyFailure(err)} ${describeFailure(err).code}`;
    }
  };
  it('a newer schemaVersion (a newer producer mid-deploy) is retried, never parked; a broken one is parked', () => {
    const env = newEnvelope('t', { a: 1 });
    assert.equal(classOf(env), 'ok');
    assert.equal(classOf({ ...env, schemaVersion: SCHEMA_VERSION + 1 }), 'transient NEWER_SCHEMA_VERSION');
    assert.equal(classOf({ ...env, schemaVersion: 0 }), 'permanent MALFORMED_MESSAGE');
    assert.equal(classOf({ ...env, schemaVersion: '2' }), 'permanent MALFORMED_MESSAGE');
    assert.equal(classOf('not json'), 'permanent MALFORMED_MESSAGE');
  });
});
