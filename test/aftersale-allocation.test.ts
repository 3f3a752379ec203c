import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AllocLine, allocate, type Held, quote } from '../internal/aftersale/allocation.js';
import { afterSaleTransitions, decideAfterSale } from '../internal/aftersale/rules.js';

// Orders of 1-5 lines, a discount that may exceed the items (a price adjustment keeps total >= 1 fen),
// and a random sequence of after-sales for random units, some of them rejected again.
const orderArb = fc
  .record({
    lines: fc.array(
      fc.record({ quantity: fc.integer({ min: 1, max: 6 }), unitPrice: fc.integer({ min: 1, max: 99_999 }) }),
      {
        minLength: 1,
        maxLength: 5,
      },
    ),
    shippingFee: fc.integer({ min: 0, max: 5_000 }),
    discountPick: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ lines, shippingFee, discountPick }) => {
    const alloc: AllocLine[] = lines.map((l, i) => ({
      id: BigInt(i + 1),
      quantity: l.quantity,
      lineTotal: l.quantity * l.unitPrice,
    }));
    const itemsAmount = alloc.reduce((n, l) => n + l.lineTotal, 0);
    const discountAmount = Math.floor(discountPick * (itemsAmount + shippingFee - 1));
    return {
      money: { itemsAmount, shippingFee, discountAmount },
      lines: alloc,
      total: itemsAmount + shippingFee - discountAmount,
    };
  });

const stepsArb = fc.array(
  fc.record({
    picks: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 5 }),
    reject: fc.boolean(),
  }),
  { minLength: 1, maxLength: 12 },
);

describe('after-sale money (property tests)', () => {
  it('the allocation spreads the discount exactly: line nets and net shipping add up to the order total, none negative', () => {
    fc.assert(
      fc.property(orderArb, ({ money, lines, total }) => {
        const { lineNet, shippingNet } = allocate(money, lines);
        const sum = [...lineNet.values()].reduce((n, v) => n + v, 0) + shippingNet;
        assert.equal(sum, total);
        for (const l of lines) {
          const net = lineNet.get(l.id)!;
          assert.ok(net >= 0 && net <= l.lineTotal, `line ${l.id} net ${net} of ${l.lineTotal}`);
        }
        assert.ok(shippingNet >= 0 && shippingNet <= money.shippingFee);
      }),
      { numRuns: 2000 },
    );
  });

  it('partial refunds in any order, with rejections, never refund more than paid, never negative, and all units refund exactly the total', () => {
    fc.assert(
      fc.property(orderArb, stepsArb, ({ money, lines, total }, steps) => {
        const live: Array<{ lines: Map<bigint, { units: number; amount: number }>; shipping: number }> = [];
        const heldOf = (): Held => {
          const h: Held = { lines: new Map(), shipping: 0 };
          for (const r of live) {
            h.shipping += r.shipping;
            for (const [id, v] of r.lines) {
              const c = h.lines.get(id) ?? { units: 0, amount: 0 };
              h.lines.set(id, { units: c.units + v.units, amount: c.amount + v.amount });
            }
          }
          return h;
        };
        for (const step of steps) {
          const held = heldOf();
          const want = new Map<bigint, number>();
          lines.forEach((l, i) => {
            const left = l.quantity - (held.lines.get(l.id)?.units ?? 0);
            const q = Math.min(left, Math.floor(step.picks[i % 5]! * (left + 1)));
            if (q > 0) want.set(l.id, q);
          });
          if (want.size === 0) continue;
          const q = quote(money, lines, held, want);
          for (const l of q.lines) assert.ok(l.amount >= 0, 'negative line amount');
          assert.ok(q.shippingAmount >= 0);
          live.push({
            lines: new Map(q.lines.map((l) => [l.orderItemId, { units: l.quantity, amount: l.amount }])),
            shipping: q.shippingAmount,
          });
          const after = heldOf();
          const heldTotal = [...after.lines.values()].reduce((n, v) => n + v.amount, 0) + after.shipping;
          assert.ok(heldTotal <= total, `held ${heldTotal} of ${total}`);
          const { lineNet } = allocate(money, lines);
          for (const l of lines) assert.ok((after.lines.get(l.id)?.amount ?? 0) <= lineNet.get(l.id)!);
          if (step.reject) live.splice(Math.floor(step.picks[0]! * live.length), 1);
        }
        // Whatever happened, asking for every unit left now brings the refunds to exactly the total.
        const held = heldOf();
        const rest = new Map<bigint, number>();
        for (const l of lines) {
          const left = l.quantity - (held.lines.get(l.id)?.units ?? 0);
          if (left > 0) rest.set(l.id, left);
        }
        const heldTotal = [...held.lines.values()].reduce((n, v) => n + v.amount, 0) + held.shipping;
        if (rest.size === 0) {
          assert.equal(heldTotal, total);
          return;
        }
        const last = quote(money, lines, held, rest);
        assert.equal(heldTotal + last.total, total);
      }),
      { numRuns: 2000 },
    );
  });

  it('asking for more units than are left names the line', () => {
    const lines: AllocLine[] = [{ id: 1n, quantity: 2, lineTotal: 200 }];
    assert.throws(
      () =>
        quote(
          { itemsAmount: 200, shippingFee: 0, discountAmount: 0 },
          lines,
          { lines: new Map([[1n, { units: 1, amount: 100 }]]), shipping: 0 },
          new Map([[1n, 2]]),
        ),
      /line 1: 2 units asked, 1 left/,
    );
  });

  it('the documented remainder rule: 100 fen off three lines of 1 yuan each goes 34/33/33', () => {
    const lines: AllocLine[] = [1n, 2n, 3n].map((id) => ({ id, quantity: 1, lineTotal: 100 }));
    const { lineNet } = allocate({ itemsAmount: 300, shippingFee: 0, discountAmount: 100 }, lines);
    assert.deepEqual([...lineNet.values()], [66, 67, 67]);
  });

  it('the state machine: refund-only never goes through a return; a second step of the same kind is a no-op', () => {
    assert.equal(decideAfterSale('REFUND_ONLY', 'APPROVED', 'ship_return').kind, 'illegal');
    assert.equal(decideAfterSale('RETURN_AND_REFUND', 'APPROVED', 'start_refund').kind, 'illegal');
    assert.deepEqual(decideAfterSale('RETURN_AND_REFUND', 'RETURN_SHIPPED', 'receive'), {
      kind: 'move',
      to: 'RETURN_RECEIVED',
    });
    assert.equal(decideAfterSale('RETURN_AND_REFUND', 'RETURN_RECEIVED', 'receive').kind, 'noop');
    assert.equal(decideAfterSale('REFUND_ONLY', 'REFUNDING', 'withdraw').kind, 'illegal');
    for (const to of Object.values(afterSaleTransitions).flatMap((row) => Object.values(row)))
      assert.ok(to in afterSaleTransitions);
  });
});
