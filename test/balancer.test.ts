import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { P2cBalancer, type Picked } from '../pkg/balancer.js';

/** A balancer on a clock the test moves, with a seeded random source. */
function setup(addresses: string[]) {
  let t = 0;
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const b = new P2cBalancer(() => t, random);
  b.update(addresses);
  return { b, advance: (ms: number) => (t += ms), now: () => t };
}

const pickedBy = (b: P2cBalancer) => Object.fromEntries(b.stats().map((s) => [s.address, s.picked]));

describe('pkg P2cBalancer (power of two choices, EWMA latency)', () => {
  it('sends most calls to the faster of two instances, and still samples the slower one', () => {
    const { b, advance } = setup(['fast', 'slow']);
    const latency: Record<string, number> = { fast: 5, slow: 50 };
    // 20 concurrent callers, each call ending after its instance's latency: a small event simulation.
    const running: Array<{ at: number; p: Picked }> = [];
    let clock = 0;
    for (let n = 0; n < 20_000; n++) {
      while (running.length >= 20) {
        running.sort((x, y) => x.at - y.at);
        const first = running.shift()!;
        advance(first.at - clock);
        clock = first.at;
        first.p.done(status.OK);
      }
      const p = b.pick()!;
      running.push({ at: clock + latency[p.address]!, p });
    }
    const { fast, slow } = pickedBy(b);
    assert.ok(fast! / (fast! + slow!) > 0.8, `fast got ${fast} of ${fast! + slow!}`);
    assert.ok(slow! > 0, 'the slow instance is still tried');
    const s = b.stats();
    assert.ok(s[0]!.latencyMs < 10 && s[1]!.latencyMs > 40, JSON.stringify(s));
  });

  it('a stalled instance (calls never return) gets a bounded number of calls while the other serves', () => {
    const { b, advance } = setup(['a', 'b']);
    // Warm both up at the latency a keeps.
    for (let i = 0; i < 50; i++) {
      const p = b.pick()!;
      advance(20);
      p.done(status.OK);
    }
    const before = pickedBy(b).b!;
    // b stalls: its calls never end. a answers in 20 ms, with 10 callers: 10 s pass.
    const stuck: Picked[] = [];
    const inFlightA: Picked[] = [];
    for (let i = 0; i < 5000; i++) {
      const p = b.pick()!;
      if (p.address === 'b') stuck.push(p);
      else inFlightA.push(p);
      if (inFlightA.length >= 10) {
        advance(20);
        for (const q of inFlightA.splice(0)) q.done(status.OK);
      }
    }
    // Calls pile onto b only until its in-flight count outweighs a's; the forced pick does not add one
    // per second while b has calls in flight.
    assert.ok(stuck.length <= 14, `b took ${stuck.length} calls while stalled`);
    assert.equal(pickedBy(b).b! - before, stuck.length);
  });

  it('leaves out an instance that cannot connect, and the one a failed attempt went to', () => {
    const { b } = setup(['a', 'b', 'c']);
    for (let i = 0; i < 300; i++) {
      const p = b.pick({ connectable: (addr) => addr !== 'b' })!;
      assert.notEqual(p.address, 'b');
      p.done(status.OK);
      const retry = b.pick({ except: 'a', connectable: (addr) => addr !== 'b' })!;
      assert.equal(retry.address, 'c');
      retry.done(status.OK);
    }
    // When every instance is failing to connect, one is still tried (the channel may be back).
    assert.ok(b.pick({ connectable: () => false }));
    // A lone instance is picked even when it is the one that failed.
    const lone = setup(['only']).b;
    assert.equal(lone.pick({ except: 'only' })!.address, 'only');
    assert.equal(setup([]).b.pick(), undefined);
  });

  it('an instance whose calls keep failing becomes unhealthy and is chosen over only when probing', () => {
    const { b, advance } = setup(['good', 'bad']);
    for (let i = 0; i < 400; i++) {
      const p = b.pick()!;
      advance(100);
      p.done(p.address === 'bad' ? status.UNAVAILABLE : status.OK);
    }
    const s = Object.fromEntries(b.stats().map((x) => [x.address, x]));
    assert.ok(s.bad!.success < 0.5, JSON.stringify(s));
    // Probes only: at most one forced pick per second of the 40 s.
    assert.ok(s.bad!.picked <= 45, `bad was picked ${s.bad!.picked} times`);
    // Request errors (a bad argument, not found) say nothing about the instance.
    const { b: b2 } = setup(['x']);
    for (let i = 0; i < 50; i++) b2.pick()!.done(status.NOT_FOUND);
    assert.equal(b2.stats()[0]!.success, 1);
  });

  it('an instance whose calls end UNAVAILABLE is ejected for 1 s, then 2, 4, ...; a success brings it back', () => {
    const { b, advance } = setup(['up', 'down']);
    let dead = true;
    const calls = () => {
      for (let i = 0; i < 2000; i++) {
        const p = b.pick()!;
        advance(10);
        p.done(p.address === 'down' && dead ? status.UNAVAILABLE : status.OK);
      }
    };
    calls(); // 20 s
    const probes = pickedBy(b).down!;
    // Ejected after its first failure; probes at about 1, 3, 7 and 15 s.
    assert.ok(probes >= 3 && probes <= 6, `down was picked ${probes} times in 20 s`);
    dead = false;
    calls();
    const back = pickedBy(b).down! - probes;
    assert.ok(back > 400, `after recovering, down got ${back} of 2,000`);
  });

  it('a new instance starts from the known mean latency, not zero: a burst does not pile onto it', () => {
    const { b, advance } = setup(['a']);
    for (let i = 0; i < 20; i++) {
      const p = b.pick()!;
      advance(20);
      p.done(status.OK);
    }
    b.update(['a', 'new']);
    assert.equal(b.stats()[1]!.latencyMs, b.stats()[0]!.latencyMs);
    const burst = Array.from({ length: 100 }, () => b.pick()!);
    const toNew = burst.filter((p) => p.address === 'new').length;
    assert.ok(toNew > 30 && toNew < 70, `new took ${toNew} of 100`);
    b.update(['new']);
    assert.deepEqual(
      b.stats().map((s) => s.address),
      ['new'],
    );
  });
});
