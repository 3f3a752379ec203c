import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { mqTxLog } from '../internal/model/index.js';
import {
  brokerNames,
  MqProducer,
  newEnvelope,
  TxResolution,
  testGroups,
  testTopics,
  txLogChecker,
} from '../internal/mq/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { checkBackProducer } from './helpers/check-back.js';
import { testConfig, testEnv } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { collector } from './helpers/mq.js';
import { sleep, waitFor } from './helpers/wait.js';

// Round trips through the real RocketMQ 5 broker (deploy/rocketmq/rocketmq.sh), one per message type.
describe('RocketMQ round trips', () => {
  const config = testConfig();
  let ctx: ServiceContext;
  let producer: MqProducer;
  const run = randomUUID().slice(0, 8);
  const ids = new Set<string>();
  const id = (label: string) => {
    const v = `${run}-${label}`;
    ids.add(v);
    return v;
  };

  before(async () => {
    ctx = await createServiceContext(config, { process: 'script', logger: testLogger });
    producer = new MqProducer({
      ...config.rocketmq,
      topics: Object.values(testTopics).map((t) => t.name),
      logger: testLogger,
      checker: txLogChecker(ctx.db, ctx.config.rocketmq.txRollbackAfterMs),
    });
    await producer.start();
  });
  after(async () => {
    await producer?.close();
    await ctx?.close();
  });

  it('NORMAL: a sent message is received with its envelope and properties', async () => {
    const c = await collector(testGroups.normal, (e) => ids.has(e));
    try {
      const eventId = id('normal');
      await producer.send({
        topic: testTopics.normal.name,
        envelope: newEnvelope('test.normal', { hello: 'world' }, eventId),
        key: 'k1',
      });
      const [got] = await waitFor('the normal message', 20_000, () => (c.received.length > 0 ? c.received : undefined));
      assert.equal(got?.envelope.eventId, eventId);
      assert.deepEqual(got?.envelope.data, { hello: 'world' });
      assert.equal(got?.envelope.schemaVersion, 1);
      assert.equal(got?.meta.tag, 'test.normal');
      assert.deepEqual(got?.meta.keys, ['k1']);
    } finally {
      await c.stop();
    }
  });

  it("namespaces isolate: a message sent in the chaos suite's namespace reaches that namespace's group, never the test suite's", async () => {
    assert.deepEqual(
      [brokerNames('qftest').wrap('order_event'), brokerNames('qftest').wrap('%DLQ%qianfan-order-payment')],
      ['qftest_order_event', '%DLQ%qftest_qianfan-order-payment'],
    );
    assert.equal(brokerNames('qftest').unwrap('%DLQ%qftest_qianfan-order-payment'), '%DLQ%qianfan-order-payment');
    const other = new MqProducer({
      ...config.rocketmq,
      namespace: 'qfchaos',
      topics: [testTopics.normal.name],
      logger: testLogger,
    });
    await other.start();
    const mine = await collector(testGroups.normal, (e) => ids.has(e));
    const theirs = await collector(testGroups.normal, (e) => ids.has(e), undefined, 'qfchaos');
    try {
      const eventId = id('other-namespace');
      await other.send({ topic: testTopics.normal.name, envelope: newEnvelope('test.normal', {}, eventId) });
      const [got] = await waitFor('the message in its own namespace', 20_000, () =>
        theirs.received.length > 0 ? theirs.received : undefined,
      );
      assert.equal(got?.meta.topic, testTopics.normal.name, 'handlers see the catalog name');
      await sleep(3000);
      assert.deepEqual(
        mine.received.filter((r) => r.envelope.eventId === eventId),
        [],
      );
    } finally {
      await Promise.all([mine.stop(), theirs.stop(), other.close()]);
    }
  });

  it('FIFO: messages of one message group arrive in send order', async () => {
    const groups = ['order-A', 'order-B', 'order-C'];
    const perGroup = 8;
    const c = await collector(testGroups.fifo, (e) => ids.has(e));
    try {
      for (let i = 0; i < perGroup; i++) {
        for (const g of groups) {
          await producer.send({
            topic: testTopics.fifo.name,
            envelope: newEnvelope('test.fifo', { g, i }, id(`fifo-${g}-${i}`)),
            messageGroup: g,
          });
        }
      }
      await waitFor('all FIFO messages', 30_000, () => c.received.length >= groups.length * perGroup);
      for (const g of groups) {
        const seq = c.received
          .filter((r) => r.meta.messageGroup === g)
          .map((r) => (r.envelope.data as { i: number }).i);
        assert.deepEqual(seq, [...Array(perGroup).keys()], `group ${g} out of order: ${seq.join(',')}`);
      }
    } finally {
      await c.stop();
    }
  });

  it('DELAY: a message is not delivered before its time', async () => {
    const c = await collector(testGroups.delay, (e) => ids.has(e));
    try {
      const delayMs = 5000;
      const sentAt = Date.now();
      const deliverAt = new Date(sentAt + delayMs);
      await producer.send({
        topic: testTopics.delay.name,
        envelope: newEnvelope('test.delay', {}, id('delay')),
        deliverAt,
      });
      await sleep(delayMs - 1500);
      assert.equal(c.received.length, 0, 'delivered early');
      const [got] = await waitFor('the delayed message', 20_000, () =>
        c.received.length > 0 ? c.received : undefined,
      );
      // The broker's timer wheel ticks once a second (timerPrecisionMs=1000), so allow that much.
      assert.ok(got!.at >= deliverAt.getTime() - 1000, `delivered ${deliverAt.getTime() - got!.at} ms early`);
    } finally {
      await c.stop();
    }
  });

  it('TRANSACTION: committed is delivered, rolled back is not', async () => {
    const c = await collector(testGroups.tx, (e) => ids.has(e));
    try {
      const committed = id('tx-commit');
      const rolledBack = id('tx-rollback');
      const res = await producer.sendInTransaction(
        { topic: testTopics.tx.name, envelope: newEnvelope('test.tx', {}, committed) },
        async () => ({ local: 'done' }),
      );
      assert.equal(res.local, 'done');
      await assert.rejects(
        producer.sendInTransaction(
          { topic: testTopics.tx.name, envelope: newEnvelope('test.tx', {}, rolledBack) },
          async () => {
            throw new Error('local transaction failed');
          },
        ),
        /local transaction failed/,
      );
      await waitFor('the committed message', 20_000, () => c.received.some((r) => r.envelope.eventId === committed));
      await sleep(3000);
      assert.ok(!c.received.some((r) => r.envelope.eventId === rolledBack), 'a rolled-back message was delivered');
    } finally {
      await c.stop();
    }
  });

  it('TRANSACTION: the broker check-back commits or rolls back after the producer was killed', async () => {
    const withLog = id('tx-killed-logged');
    const withoutLog = id('tx-killed-unlogged');
    for (const [eventId, writeLog] of [
      [withLog, 'yes'],
      [withoutLog, 'no'],
    ] as const) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/fixtures/tx-half-then-die.ts', eventId, writeLog],
        {
          env: testEnv(),
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      await waitFor(`the producer child (${writeLog}) to send its half message`, 30_000, () => {
        if (child.exitCode !== null) throw new Error(`producer child exited with ${child.exitCode}`);
        return out.includes('READY');
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    const rows = await ctx.db.select().from(mqTxLog);
    assert.ok(rows.some((r) => r.eventId === withLog) && !rows.some((r) => r.eventId === withoutLog));

    // A new producer (the only live one on the topic now) answers the broker's check-back from the tx-log.
    await producer.close();
    const { producer: recovering, asked } = checkBackProducer(config, ctx.db, testTopics.tx.name, 0);
    const c = await collector(testGroups.tx, (e) => ids.has(e));
    try {
      await recovering.start();
      await waitFor('the check-back to commit the logged transaction', 60_000, () =>
        c.received.some((r) => r.envelope.eventId === withLog),
      );
      await waitFor('the check-back to ask about the unlogged transaction', 60_000, () => asked.has(withoutLog));
      assert.equal(asked.get(withLog), TxResolution.COMMIT);
      assert.equal(asked.get(withoutLog), TxResolution.ROLLBACK);
      await sleep(3000);
      assert.ok(!c.received.some((r) => r.envelope.eventId === withoutLog), 'the unlogged transaction was delivered');
    } finally {
      await c.stop();
      await recovering.close();
    }
  });
});
