import { AppError } from '../errorx/index.js';
import type { Tx } from '../model/index.js';
import type { ServiceContext } from '../svc/index.js';
import { loadSale } from './load-sale.js';
import { insertSale, type SaleRow, takeFromSku } from './repository.js';
import { type SaleSpec, validateSale } from './rules.js';
import { getSkuTitle } from './sku.js';

/**
 * An admin creates a flash sale: its stock is taken from the SKU's available stock in the same DB
 * transaction (a sale can never sell units the SKU does not have), then the sale is loaded into Redis.
 * If loading fails the sale still exists; the reconcile-flash-sales job loads it. `seal` (the request's
 * Idempotency-Key) commits in the same transaction, so a retried request can never create a second sale.
 */
export async function createFlashSale(
  ctx: ServiceContext,
  spec: SaleSpec,
  seal?: (tx: Tx, sale: SaleRow) => Promise<void>,
): Promise<SaleRow> {
  const now = new Date();
  validateSale(spec, now);
  const title = await getSkuTitle(ctx.db, spec.skuId);
  const sale: SaleRow = {
    id: ctx.ids.next(),
    skuId: spec.skuId,
    title,
    price: spec.price,
    stock: spec.stock,
    sold: 0,
    perUserLimit: spec.perUserLimit,
    status: 'ACTIVE',
    startsAt: spec.startsAt,
    endsAt: spec.endsAt,
    createdAt: now,
    updatedAt: now,
  };
  await ctx.db.transaction(async (tx) => {
    if (!(await takeFromSku(tx, spec.skuId, spec.stock))) {
      throw new AppError('INSUFFICIENT_STOCK', `SKU ${spec.skuId} has fewer than ${spec.stock} units available`, {
        skuId: spec.skuId.toString(),
      });
    }
    await insertSale(tx, sale);
    await seal?.(tx, sale);
  });
  await loadSale(ctx, sale).catch((err: unknown) =>
    ctx.logger.warn(
      { err, saleId: sale.id.toString() },
      'flash sale not loaded into Redis yet; the reconcile job loads it',
    ),
  );
  return sale;
}
