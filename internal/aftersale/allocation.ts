/**
 * Exact money for partial refunds: pure, no I/O, integers in fen.
 *
 * The rule (docs/decisions.md, "After-sale money"):
 * 1. The order's discount is spread over its lines in proportion to their line totals: each line gets
 *    floor(discount × lineTotal / itemsAmount); the fen left over go one each to the lines with the
 *    largest remainders, ties to the earlier line. A discount larger than the items (possible after a
 *    price adjustment that keeps shipping) takes all the items and the rest comes off the shipping fee.
 *    A line's net is its total minus its share; the nets plus the net shipping fee are the order total.
 * 2. Units of a line refund by position: with r units of a line already held by live requests that refund
 *    T fen, q more units refund floor(net × (r + q) / n) − T (never below 0), and the request that takes
 *    the line's last unit takes whatever of the net is left. Held amounts never exceed the net, so the
 *    line can never refund more than it cost, however requests are rejected and made again.
 * 3. The net shipping fee is refunded by the request that leaves no unit of the order unheld.
 */

export interface AllocLine {
  /** Order item id. */
  id: bigint;
  quantity: number;
  lineTotal: number;
}

export interface OrderMoney {
  itemsAmount: number;
  shippingFee: number;
  discountAmount: number;
}

export interface Allocation {
  /** Per order item id: what all of the line's units refund. */
  lineNet: Map<bigint, number>;
  shippingNet: number;
}

export function allocate(order: OrderMoney, lines: AllocLine[]): Allocation {
  const items = lines.reduce((n, l) => n + l.lineTotal, 0);
  const onItems = Math.min(order.discountAmount, items);
  const shares = lines.map((l, i) => {
    const exact = items === 0 ? 0n : BigInt(onItems) * BigInt(l.lineTotal);
    return {
      i,
      share: items === 0 ? 0 : Number(exact / BigInt(items)),
      rest: items === 0 ? 0n : exact % BigInt(items),
    };
  });
  let left = onItems - shares.reduce((n, s) => n + s.share, 0);
  const byRest = [...shares].sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const s of byRest) {
    if (left === 0) break;
    s.share += 1;
    left -= 1;
  }
  const lineNet = new Map<bigint, number>();
  for (const s of shares) lineNet.set(lines[s.i]!.id, lines[s.i]!.lineTotal - s.share);
  return { lineNet, shippingNet: order.shippingFee - (order.discountAmount - onItems) };
}

/** What q more units of a line refund, given r units already held by live requests that refund `held` fen. */
export function unitsAmount(net: number, bought: number, r: number, held: number, q: number): number {
  if (q <= 0 || r + q > bought) throw new RangeError(`cannot take ${q} of ${bought - r} units left`);
  if (r + q === bought) return Math.max(0, net - held);
  const upTo = Number((BigInt(net) * BigInt(r + q)) / BigInt(bought));
  return Math.max(0, upTo - held);
}

export interface Held {
  /** Per order item id: units and fen held by live requests (not REJECTED or CLOSED). */
  lines: Map<bigint, { units: number; amount: number }>;
  shipping: number;
}

export interface Quote {
  lines: Array<{ orderItemId: bigint; quantity: number; amount: number }>;
  itemsAmount: number;
  shippingAmount: number;
  total: number;
}

/**
 * What a request for `want` (order item id -> units) refunds, given what live requests already hold.
 * Throws RangeError naming the line when more units are asked than are left.
 */
export function quote(order: OrderMoney, lines: AllocLine[], held: Held, want: Map<bigint, number>): Quote {
  const { lineNet, shippingNet } = allocate(order, lines);
  const out: Quote['lines'] = [];
  let unheldAfter = 0;
  for (const l of lines) {
    const h = held.lines.get(l.id) ?? { units: 0, amount: 0 };
    const q = want.get(l.id) ?? 0;
    if (q > l.quantity - h.units) {
      throw new RangeError(`line ${l.id}: ${q} units asked, ${l.quantity - h.units} left to refund`);
    }
    if (q > 0)
      out.push({
        orderItemId: l.id,
        quantity: q,
        amount: unitsAmount(lineNet.get(l.id)!, l.quantity, h.units, h.amount, q),
      });
    unheldAfter += l.quantity - h.units - q;
  }
  for (const id of want.keys()) {
    if (!lines.some((l) => l.id === id)) throw new RangeError(`line ${id} is not on this order`);
  }
  const itemsAmount = out.reduce((n, l) => n + l.amount, 0);
  const shippingAmount = unheldAfter === 0 ? Math.max(0, shippingNet - held.shipping) : 0;
  return { lines: out, itemsAmount, shippingAmount, total: itemsAmount + shippingAmount };
}
