import { sql } from 'drizzle-orm';
import { skus } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';

/** Demo catalogue with fixed ids so docs and curl examples can name them. Prices in fen. */
export const demoSkus = [
  { id: 10001n, title: 'Qianfan canvas tote bag', price: 4900, available: 500 },
  { id: 10002n, title: 'Longjing green tea, 250 g', price: 12800, available: 200 },
  { id: 10003n, title: 'Bamboo chopsticks, set of 10', price: 3900, available: 1000 },
  { id: 10004n, title: 'Ceramic tea cup', price: 6800, available: 300 },
  { id: 10005n, title: 'Flash-sale umbrella', price: 1990, available: 50 },
] as const;

/**
 * Inserts the demo SKUs, or tops their stock back up to the demo level; safe to run again.
 * Only `available` is reset, so reserved and sold counts of existing orders stay true.
 */
export async function seedDemo(ctx: ServiceContext): Promise<{ skus: number }> {
  await ctx.db
    .insert(skus)
    .values(demoSkus.map((s) => ({ ...s, currency: 'CNY' })))
    .onDuplicateKeyUpdate({
      set: { title: sql`VALUES(title)`, price: sql`VALUES(price)`, available: sql`VALUES(available)` },
    });
  return { skus: demoSkus.length };
}
