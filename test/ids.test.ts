import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdGenerator, idTime } from '../internal/ids/index.js';

describe('snowflake ids', () => {
  it('are unique and strictly increasing, even past 4096 per millisecond', () => {
    const gen = IdGenerator.forProcess(3, 'restful');
    let prev = 0n;
    const seen = new Set<bigint>();
    for (let i = 0; i < 50_000; i++) {
      const id = gen.next();
      assert.ok(id > prev);
      seen.add(id);
      prev = id;
    }
    assert.equal(seen.size, 50_000);
  });

  it('carry their time and fit a signed BIGINT', () => {
    const before = Date.now();
    const id = new IdGenerator(1023).next();
    assert.ok(id < 2n ** 63n);
    assert.ok(Math.abs(idTime(id).getTime() - before) < 1000);
  });

  it('different workers never collide', () => {
    const a = IdGenerator.forProcess(0, 'restful');
    const b = IdGenerator.forProcess(0, 'service');
    const ids = new Set<bigint>();
    for (let i = 0; i < 5000; i++) {
      ids.add(a.next());
      ids.add(b.next());
    }
    assert.equal(ids.size, 10_000);
    assert.throws(() => new IdGenerator(1024), /worker id/);
  });
});
