import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { claimWorkerId, createServiceContext, type ServiceContext, WorkerIdTaken } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { waitFor } from './helpers/wait.js';

const WORKER = 1017;
const holder = (pid: number, host = hostname()) => JSON.stringify({ host, pid, process: 'job', nonce: 'earlier' });

// The worker id claim against the real Redis (the processes' side is in test/processes.test.ts).
describe('worker id claim (service.instance is unique per process kind)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', logger: testLogger });
  });
  after(async () => {
    await ctx.redis.del(`worker:${WORKER}`);
    await ctx?.close();
  });
  const claim = (lost: (h: string) => void = () => {}) =>
    claimWorkerId({ redis: ctx.redis, workerId: WORKER, process: 'job', logger: testLogger, lost, renewEveryMs: 100 });

  it('refuses an id a live process holds, here or on another host; takes over one whose process is gone', async () => {
    await ctx.redis.set(`worker:${WORKER}`, holder(process.ppid), 'PX', 30_000);
    await assert.rejects(
      claim(),
      (e: unknown) =>
        e instanceof WorkerIdTaken &&
        /worker id 1017 \(service\.instance 127, job\) is held by job pid/.test((e as Error).message),
    );
    await ctx.redis.set(`worker:${WORKER}`, holder(1, 'another-host'), 'PX', 30_000);
    await assert.rejects(claim(), WorkerIdTaken);
    // A process that has exited (kill -9 leaves its claim behind): taken over at once.
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    await ctx.redis.set(`worker:${WORKER}`, holder(gone), 'PX', 30_000);
    const c = await claim();
    assert.equal(JSON.parse((await ctx.redis.get(`worker:${WORKER}`))!).pid, process.pid);
    await c.release();
    assert.equal(await ctx.redis.get(`worker:${WORKER}`), null, 'released on stop');
  });

  it('a renewal that finds another process holding the id reports it lost; a lapsed claim is renewed', async () => {
    let lost = '';
    const c = await claim((h) => {
      lost = h;
    });
    await ctx.redis.del(`worker:${WORKER}`); // lapsed (e.g. a Redis restart without persistence)
    await waitFor('the claim renewed', 5000, async () => (await ctx.redis.get(`worker:${WORKER}`)) !== null);
    await ctx.redis.set(`worker:${WORKER}`, holder(process.ppid, 'another-host'), 'PX', 30_000);
    await waitFor('the loss reported', 5000, () => lost !== '');
    assert.match(lost, /held by job pid \d+ on another-host/);
    await c.release();
    assert.ok(await ctx.redis.get(`worker:${WORKER}`), "release never deletes another process's claim");
  });
});
