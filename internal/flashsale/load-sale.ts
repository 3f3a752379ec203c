import type { ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import type { SaleRow } from './repository.js';
import { LOAD } from './scripts.js';

/** Puts a sale's window, limit and price into Redis, and its remaining stock if Redis has none yet. */
export async function loadSale(ctx: ServiceContext, sale: SaleRow): Promise<void> {
  const k = saleKeys(sale.id);
  await LOAD.run(
    ctx.redis,
    [k.meta, k.stock],
    [
      sale.startsAt.getTime(),
      sale.endsAt.getTime(),
      sale.perUserLimit,
      sale.price,
      String(sale.skuId),
      sale.stock - sale.sold,
    ],
  );
}
