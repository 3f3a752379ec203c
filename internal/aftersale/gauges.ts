import type { ServiceContext } from '../svc/index.js';
import { serviceMetrics } from '../telemetry/index.js';
import { openAfterSaleAges } from './repository.js';

/** Sets the open after-sale gauges (count and oldest age per state); alert: QianfanOrderAfterSaleWaiting. */
export async function measureAfterSales(ctx: ServiceContext, now = new Date()) {
  const ages = await openAfterSaleAges(ctx.db, now);
  const m = serviceMetrics(ctx.metrics);
  for (const a of ages) {
    m.afterSalesOpen.set({ status: a.status }, a.count);
    m.afterSalesOldest.set({ status: a.status }, a.oldestSeconds);
  }
  return ages;
}
