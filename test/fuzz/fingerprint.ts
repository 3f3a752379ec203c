import { sql } from 'drizzle-orm';
import { saleKeys } from '../../internal/flashsale/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';

/**
 * What a refused request must leave unchanged: row counts and last-update times of the order tables,
 * stock and versions, and one flash sale's Redis state. (Idempotency records and rate-limit counters are
 * written on refusals by design: a refused request is refused again the same way.)
 */
export async function writeFingerprint(ctx: ServiceContext, saleId: string): Promise<unknown> {
  const [rows] = (await ctx.db.execute(sql`
    SELECT
      (SELECT CONCAT(COUNT(*), '/', COALESCE(SUM(version), 0), '/', COALESCE(MAX(updated_at), '')) FROM orders) AS orders,
      (SELECT COUNT(*) FROM order_items) AS items,
      (SELECT COUNT(*) FROM order_status_log) AS log,
      (SELECT CONCAT(COUNT(*), '/', COALESCE(MAX(updated_at), '')) FROM payments) AS payments,
      (SELECT CONCAT(COUNT(*), '/', COALESCE(MAX(updated_at), '')) FROM refunds) AS refunds,
      (SELECT CONCAT(COUNT(*), '/', COALESCE(MAX(updated_at), '')) FROM shipments) AS shipments,
      (SELECT COALESCE(SUM(quantity), 0) FROM shipment_items) AS shipmentItems,
      (SELECT CONCAT(COUNT(*), '/', COALESCE(MAX(updated_at), '')) FROM after_sales) AS afterSales,
      (SELECT CONCAT(COALESCE(SUM(available), 0), '/', COALESCE(SUM(reserved), 0), '/', COALESCE(SUM(version), 0)) FROM skus) AS skus,
      (SELECT CONCAT(COUNT(*), '/', COALESCE(MAX(updated_at), '')) FROM flash_sales) AS sales,
      (SELECT CONCAT(COUNT(*), '/', COALESCE(MAX(updated_at), '')) FROM flash_sale_tickets) AS tickets,
      (SELECT COUNT(*) FROM mq_tx_log) AS txlog,
      (SELECT COUNT(*) FROM dead_letters) AS dead
  `)) as unknown as [Array<Record<string, unknown>>];
  const k = saleKeys(saleId);
  const [stock, buyers, tickets] = await Promise.all([
    ctx.redis.get(k.stock),
    ctx.redis.hlen(k.users),
    ctx.redis.hlen(k.tickets),
  ]);
  return { ...rows[0], stock, buyers, tickets };
}
