import { selectSql, type Tx } from '../model/index.js';

/**
 * Answers are kept for replay at least 24 hours (idempotency_keys.response_body). They are stored
 * without the buyer's phone number and street: any object with an order `id` and an `address` has those
 * two fields replaced by a marker, and a replay puts them back from the order's own address snapshot.
 */
const HIDDEN = '\u0000hidden';
const PERSONAL = ['phone', 'detail'] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function walk(v: unknown, visit: (o: Obj) => void): void {
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (isObj(v)) {
    visit(v);
    for (const x of Object.values(v)) walk(x, visit);
  }
}

/** A copy of `value` with the phone and street of every order address replaced by a marker. */
export function withoutPersonal<T>(value: T): T {
  const copy = JSON.parse(JSON.stringify(value ?? null)) as T;
  walk(copy, (o) => {
    if (typeof o.id !== 'string' || !isObj(o.address)) return;
    for (const f of PERSONAL) if (typeof o.address[f] === 'string') o.address[f] = HIDDEN;
  });
  return copy;
}

/** Puts back the phone and street of every hidden order address from the orders table. */
export async function withPersonal<T>(db: Tx, value: T): Promise<T> {
  const hidden: Obj[] = [];
  walk(value, (o) => {
    if (typeof o.id === 'string' && isObj(o.address) && PERSONAL.some((f) => (o.address as Obj)[f] === HIDDEN)) {
      hidden.push(o);
    }
  });
  if (hidden.length === 0) return value;
  const ids = [...new Set(hidden.map((o) => o.id as string))].filter((id) => /^\d{1,20}$/.test(id));
  const rows = ids.length
    ? await selectSql<{ id: string | number; address: string | Obj }>(
        db,
        'SELECT id, address FROM orders WHERE id IN (?)',
        [ids],
      )
    : [];
  const byId = new Map(
    rows.map((r) => [String(r.id), typeof r.address === 'string' ? JSON.parse(r.address) : r.address]),
  );
  for (const o of hidden) {
    const address = o.address as Obj;
    const saved = byId.get(o.id as string) as Obj | undefined;
    for (const f of PERSONAL) if (address[f] === HIDDEN) address[f] = typeof saved?.[f] === 'string' ? saved[f] : '';
  }
  return value;
}
