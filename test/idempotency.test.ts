import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { AppError } from '../internal/errorx/index.js';
import {
  abandonIdempotent,
  beginIdempotent,
  completeIdempotent,
  requestHash,
  runIdempotent,
  takeOverClaim,
} from '../internal/idempotency/index.js';
import { idempotencyKeys } from '../internal/model/index.js';
import { createServiceContext, type ServiceContext, thisProcess } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';

// A claim left IN_FLIGHT by a process that died (kill -9 mid-request) is taken over by a retry after
// 20 s, or at once when that process is known gone from this host; the dead claim can no longer complete, abandon or seal anything.
describe('idempotency keys after a crash (real MariaDB)', () => {
  let ctx: ServiceContext;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', mq: false, logger: testLogger });
  });
  after(async () => {
    await ctx?.close();
  });

  const row = async (scope: string, key: string) =>
    (
      await ctx.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)))
    )[0];

  it('a claim still being worked on is IN_FLIGHT to a retry', async () => {
    const scope = `t:${randomUUID()}`;
    const key = randomUUID();
    const hash = requestHash({ a: 1 });
    await beginIdempotent(ctx, scope, key, hash, new Date(Date.now() - 5_000));
    await assert.rejects(
      runIdempotent(ctx, { scope, key, hash }, async () => 'second'),
      (e: unknown) => e instanceof AppError && e.code === 'IDEMPOTENCY_KEY_IN_FLIGHT',
    );
  });

  it('a claim 25 s old is taken over, and the dead claim cannot complete, abandon or seal', async () => {
    const scope = `t:${randomUUID()}`;
    const key = randomUUID();
    const hash = requestHash({ a: 2 });
    const dead = await beginIdempotent(ctx, scope, key, hash, new Date(Date.now() - 25_000));
    assert.equal(dead.kind, 'new');
    const deadAt = (dead as { claimedAt: Date }).claimedAt;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const retry = runIdempotent(ctx, { scope, key, hash }, async (seal) => {
      await gate;
      await ctx.db.transaction(async (tx) => seal(tx, 'from the retry'));
      return 'from the retry';
    });
    // The retry holds the key now; the dead request's late calls change nothing.
    for (let i = 0; i < 50 && (await row(scope, key))?.createdAt.getTime() === deadAt.getTime(); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await completeIdempotent(ctx, scope, key, 200, JSON.stringify({ ok: 'from the dead' }), deadAt);
    await abandonIdempotent(ctx, scope, key, deadAt);
    const during = await row(scope, key);
    assert.equal(during?.status, 'IN_FLIGHT');
    assert.notEqual(during?.createdAt.getTime(), deadAt.getTime());
    release();
    assert.deepEqual(await retry, { value: 'from the retry', replayed: false });
    const replay = await runIdempotent(ctx, { scope, key, hash }, async () => 'never run');
    assert.deepEqual(replay, { value: 'from the retry', replayed: true });
  });

  it('a stale claim that completed after it was read is never taken over (its request does not run twice)', async () => {
    const scope = `t:${randomUUID()}`;
    const key = randomUUID();
    const hash = requestHash({ a: 3 });
    const long = new Date(Date.now() - 120_000);
    const begun = await beginIdempotent(ctx, scope, key, hash, long);
    assert.equal(begun.kind, 'new');
    // A retry read the row while IN_FLIGHT and stale; before its takeover, the first request finished.
    await completeIdempotent(ctx, scope, key, 200, JSON.stringify({ ok: 1 }), long);
    assert.equal(await takeOverClaim(ctx, scope, key, long, new Date()), false);
    const after = await row(scope, key);
    assert.equal(after?.status, 'DONE');
    assert.equal(after?.createdAt.getTime(), long.getTime());
    // And a retry now gets the stored answer.
    assert.equal((await beginIdempotent(ctx, scope, key, hash)).kind, 'replay');
  });
  it('a fresh claim of a process gone from this host is taken over at once; a live or remote holder keeps it', async () => {
    const hash = requestHash({ a: 4 });
    const claimBy = async (holder: object | null) => {
      const scope = `t:${randomUUID()}`;
      const key = randomUUID();
      await beginIdempotent(ctx, scope, key, hash, new Date(Date.now() - 1_000));
      await ctx.db
        .update(idempotencyKeys)
        .set({ holder: holder && JSON.stringify(holder) })
        .where(and(eq(idempotencyKeys.scope, scope), eq(idempotencyKeys.key, key)));
      return { scope, key };
    };
    const retry = async (c: { scope: string; key: string }) => {
      try {
        return (await beginIdempotent(ctx, c.scope, c.key, hash)).kind;
      } catch (err) {
        return (err as AppError).code;
      }
    };
    // A process on this host, killed with -9 and reaped.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const live = await claimBy({ ...thisProcess, pid: child.pid, nonce: randomUUID() });
    assert.equal(await retry(live), 'IDEMPOTENCY_KEY_IN_FLIGHT', 'the holder still runs');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(await retry(live), 'new', 'the holder was killed');
    // This very pid in an earlier life (a restarted container): gone. This life: still working on it.
    assert.equal(await retry(await claimBy({ ...thisProcess, nonce: randomUUID() })), 'new');
    assert.equal(await retry(await claimBy(thisProcess)), 'IDEMPOTENCY_KEY_IN_FLIGHT');
    // Another host, or another PID namespace on this host: not known to be gone, so it waits to go stale.
    const gonePid = { ...thisProcess, pid: child.pid, nonce: randomUUID() };
    assert.equal(await retry(await claimBy({ ...gonePid, host: 'another-host' })), 'IDEMPOTENCY_KEY_IN_FLIGHT');
    assert.equal(await retry(await claimBy({ ...gonePid, pidNs: 'pid:[1]' })), 'IDEMPOTENCY_KEY_IN_FLIGHT');
    // A row without a holder (written before holders were recorded) waits too.
    assert.equal(await retry(await claimBy(null)), 'IDEMPOTENCY_KEY_IN_FLIGHT');
  });
});
