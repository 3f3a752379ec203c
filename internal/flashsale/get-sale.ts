import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { saleKeys } from './keys.js';
import { getSale, type SaleRow, ticketTotals } from './repository.js';

export interface PublicSale {
  sale: SaleRow;
  /** Units left to sell (Redis). */
  remaining: number;
}

/** A sale as any buyer sees it: price, window and remaining stock. */
export async function getFlashSale(ctx: ServiceContext, saleId: bigint): Promise<PublicSale> {
  return publicSale(await loadSaleRow(ctx, saleId), await ctx.redis.get(saleKeys(saleId).stock));
}

async function loadSaleRow(ctx: ServiceContext, saleId: bigint): Promise<SaleRow> {
  const sale = await getSale(ctx.db, saleId);
  if (!sale) throw new AppError('FLASH_SALE_NOT_FOUND', `flash sale ${saleId} not found`);
  return sale;
}

const publicSale = (sale: SaleRow, left: string | null): PublicSale => ({
  sale,
  remaining: left === null ? sale.stock - sale.sold : Math.max(0, Number(left)),
});

export interface SaleStats extends PublicSale {
  redis: { remaining: number | null; queuedTickets: number; loaded: boolean };
  db: {
    stock: number;
    sold: number;
    ordered: number;
    failed: number;
    returned: number;
    orderedTickets: number;
    failedTickets: number;
  };
}

/** The admin view: counters from Redis and the DB side by side. */
export async function flashSaleStats(ctx: ServiceContext, saleId: bigint): Promise<SaleStats> {
  const sale = await loadSaleRow(ctx, saleId);
  const k = saleKeys(saleId);
  const [left, queued, loaded] = await Promise.all([
    ctx.redis.get(k.stock),
    ctx.redis.zcard(k.queued),
    ctx.redis.exists(k.meta),
  ]);
  const base = publicSale(sale, left);
  const t = await ticketTotals(ctx.db, saleId);
  const units = (s: string) => t[s]?.units ?? 0;
  return {
    ...base,
    redis: { remaining: left === null ? null : Number(left), queuedTickets: queued, loaded: loaded === 1 },
    db: {
      stock: base.sale.stock,
      sold: base.sale.sold,
      ordered: units('ORDERED'),
      failed: units('FAILED'),
      returned: units('RETURNED') + units('RELEASED'),
      orderedTickets: t.ORDERED?.tickets ?? 0,
      failedTickets: t.FAILED?.tickets ?? 0,
    },
  };
}
