import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, like } from 'drizzle-orm';
import { deadLetters, idempotencyKeys, runMigrations } from '../internal/model/index.js';
import { cleanupExpired } from '../internal/ops/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';

describe('job use cases and locks (real MariaDB and Redis)', () => {
  let ctx: ServiceContext;
  const scope = `test-${randomUUID().slice(0, 8)}`;
  before(async () => {
    ctx = await createServiceContext(testConfig(), { process: 'script', logger: testLogger });
    await runMigrations(ctx.db, ctx.pool);
  });
  after(async () => {
    await ctx.db.delete(idempotencyKeys).where(eq(idempotencyKeys.scope, scope));
    await ctx.db.delete(deadLetters).where(like(deadLetters.messageId, `${scope}%`));
    await ctx.close();
  });

  it('cleanup deletes expired idempotency keys and old resolved dead letters in batches, and keeps the rest', async () => {
    const now = new Date();
    const past = new Date(now.getTime() - 60_000);
    const future = new Date(now.getTime() + 86_400_000);
    await ctx.db.insert(idempotencyKeys).values(
      Array.from({ length: 25 }, (_, i) => ({
        scope,
        key: `k${i}`,
        requestHash: 'h',
        status: 'DONE',
        expiresAt: i < 20 ? past : future,
      })),
    );
    const old = new Date(now.getTime() - 8 * 86_400_000);
    const letter = (suffix: string, status: string, resolvedAt: Date | null) => ({
      id: ctx.ids.next(),
      source: 'PARKED',
      messageId: `${scope}-${suffix}`,
      topic: 't',
      consumerGroup: 'g',
      body: '{}',
      errorCode: 'VALIDATION_FAILED',
      status,
      firstSeenAt: now,
      lastSeenAt: now,
      resolvedAt,
    });
    await ctx.db
      .insert(deadLetters)
      .values([letter('old', 'RESOLVED', old), letter('new', 'RESOLVED', now), letter('parked', 'PARKED', null)]);
    const r = await cleanupExpired(ctx, { now, batchSize: 7 });
    assert.ok(r.idempotencyKeys >= 20);
    assert.ok(r.resolvedDeadLetters >= 1);
    const left = await ctx.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.scope, scope));
    assert.equal(left.length, 5);
    const letters = await ctx.db
      .select()
      .from(deadLetters)
      .where(like(deadLetters.messageId, `${scope}%`));
    assert.deepEqual(letters.map((d) => d.messageId).sort(), [`${scope}-new`, `${scope}-parked`]);
  });
});
