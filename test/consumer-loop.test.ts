import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { deadLetterHooks, dlqReader } from '../consumer/dead-letters.js';
import { replayDeadLetters } from '../internal/deadletter/index.js';
import { deadLetters } from '../internal/model/index.js';
import { ConsumerLoop, type Envelope, newEnvelope, testGroups, testTopics } from '../internal/mq/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { waitFor } from './helpers/wait.js';

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
});
