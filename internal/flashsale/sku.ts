import { AppError } from '../errorx/index.js';
import type { Tx } from '../model/index.js';
import { findSkus } from '../order/index.js';

/** The SKU's title, or SKU_NOT_FOUND when it does not exist or is off sale. */
export async function getSkuTitle(tx: Tx, skuId: bigint): Promise<string> {
  const [sku] = await findSkus(tx, [skuId]);
  if (sku?.status !== 'ON_SALE') throw new AppError('SKU_NOT_FOUND', `SKU ${skuId} does not exist or is off sale`);
  return sku.title;
}
