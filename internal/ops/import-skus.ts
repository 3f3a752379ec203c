import { sql } from 'drizzle-orm';
import { skus } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';

export const SKU_CSV_HEADER = ['id', 'title', 'price', 'currency', 'available', 'status'] as const;

export interface SkuLine {
  id: bigint;
  title: string;
  price: number;
  currency: string;
  available: number;
  status: 'ON_SALE' | 'OFF_SALE';
}

export interface ImportCheck {
  lines: SkuLine[];
  /** Every bad line: its 1-based line number in the file and what is wrong. */
  errors: Array<{ line: number; message: string }>;
}

/** One CSV record: commas separate, double quotes quote ("" inside quotes is a quote). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * Validates a SKU CSV (header `id,title,price,currency,available,status`) line by line; nothing is
 * written here. Prices in fen; status ON_SALE or OFF_SALE.
 */
export function checkSkuCsv(text: string): ImportCheck {
  const rows = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const errors: ImportCheck['errors'] = [];
  const lines: SkuLine[] = [];
  const header = splitCsvLine(rows[0] ?? '').map((h) => h.trim());
  if (header.join(',') !== SKU_CSV_HEADER.join(',')) {
    return { lines, errors: [{ line: 1, message: `the header must be exactly: ${SKU_CSV_HEADER.join(',')}` }] };
  }
  const seen = new Map<string, number>();
  for (const [i, raw] of rows.slice(1).entries()) {
    const n = i + 2;
    if (raw.trim() === '') continue;
    const problem = checkLine(splitCsvLine(raw), seen);
    if (typeof problem === 'string') errors.push({ line: n, message: problem });
    else {
      seen.set(String(problem.id), n);
      lines.push(problem);
    }
  }
  return { lines, errors };
}

/** One record as a SKU line, or what is wrong with it. */
function checkLine(f: string[], seen: Map<string, number>): SkuLine | string {
  if (f.length !== SKU_CSV_HEADER.length) return `expected ${SKU_CSV_HEADER.length} fields, found ${f.length}`;
  const [id = '', title = '', price = '', currency = '', available = '', status = ''] = f.map((x) => x.trim());
  if (!/^[1-9]\d{0,18}$/.test(id)) return `id '${id}' is not a positive decimal id`;
  if (seen.has(id)) return `id ${id} is repeated (first on line ${seen.get(id)})`;
  if (!title || title.length > 200) return 'title must be 1 to 200 characters';
  if (!/^\d{1,15}$/.test(price) || Number(price) <= 0) return `price '${price}' must be a positive integer (fen)`;
  if (!/^[A-Z]{3}$/.test(currency)) return `currency '${currency}' must be a 3-letter code like CNY`;
  if (!/^\d{1,9}$/.test(available)) return `available '${available}' must be a whole number`;
  if (status !== 'ON_SALE' && status !== 'OFF_SALE') return `status '${status}' must be ON_SALE or OFF_SALE`;
  return { id: BigInt(id), title, price: Number(price), currency, available: Number(available), status };
}

/**
 * Upserts SKUs by id in one transaction: title, price, currency, status and available stock are set;
 * reserved and sold (held by orders) are never touched.
 */
export async function importSkus(ctx: ServiceContext, lines: SkuLine[], onProgress?: (done: number) => void) {
  await ctx.db.transaction(async (tx) => {
    for (let i = 0; i < lines.length; i += 500) {
      const chunk = lines.slice(i, i + 500);
      await tx
        .insert(skus)
        .values(chunk)
        .onDuplicateKeyUpdate({
          set: {
            title: sql`VALUES(title)`,
            price: sql`VALUES(price)`,
            currency: sql`VALUES(currency)`,
            available: sql`VALUES(available)`,
            status: sql`VALUES(status)`,
          },
        });
      onProgress?.(Math.min(lines.length, i + chunk.length));
    }
  });
  return { upserted: lines.length };
}
