/**
 * Redis keys of one flash sale. The `{<saleId>}` hash tag puts all of a sale's keys in one Redis Cluster
 * slot, so each Lua script touches one slot only.
 */
export function saleKeys(saleId: bigint | string) {
  const tag = `fs:{${saleId}}`;
  return {
    /** hash: startsAt, endsAt (epoch ms), limit, price, skuId */
    meta: `${tag}:meta`,
    /** integer: units left to sell */
    stock: `${tag}:stock`,
    /** hash: userId -> units this buyer holds */
    users: `${tag}:users`,
    /** hash: ticket seq -> ticket JSON (status kept up to date by the consumer) */
    tickets: `${tag}:tickets`,
    /** sorted set: ticket seq -> time it was queued or last re-sent; removed once the DB has it */
    queued: `${tag}:queued`,
    /** hash: ticket seq -> id of the broker message that carries it (sent; the consumer will take it) */
    sent: `${tag}:sent`,
    /** hash: markers that make returns of units idempotent (t:<seq>, o:<orderId>) */
    returned: `${tag}:returned`,
    idem: (userId: string, key: string) => `${tag}:idem:${userId}:${key}`,
  };
}

/** Public ticket id: `<saleId>-<seq>`, so a lookup knows the sale (and its Redis slot). */
export const ticketIdOf = (saleId: bigint | string, seq: bigint | string) => `${saleId}-${seq}`;

export function parseTicketId(ticketId: string): { saleId: bigint; seq: bigint } | undefined {
  const m = /^(\d{1,20})-(\d{1,20})$/.exec(ticketId);
  if (!m) return undefined;
  const saleId = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  const max = 18_446_744_073_709_551_615n;
  return saleId <= max && seq <= max ? { saleId, seq } : undefined;
}
