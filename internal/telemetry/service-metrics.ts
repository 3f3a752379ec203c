import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from './per-registry.js';

/** Latency buckets (seconds) of requests served from memory or Redis up to ones that write MySQL and the broker. */
const REQUEST_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function build(registry: Registry) {
  const registers = [registry];
  return {
    http: new Histogram({
      name: 'qianfan_http_request_duration_seconds',
      help: 'HTTP requests by route template, method and status code',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    grpc: new Histogram({
      name: 'qianfan_grpc_server_handling_seconds',
      help: 'gRPC calls by method and status code name',
      labelNames: ['method', 'code'] as const,
      buckets: REQUEST_BUCKETS,
      registers,
    }),
    ordersCreated: new Counter({
      name: 'qianfan_orders_created_total',
      help: 'Orders created, by source (APP, WEB, RPC, FLASHSALE)',
      labelNames: ['source'] as const,
      registers,
    }),
    orderTransitions: new Counter({
      name: 'qianfan_order_transitions_total',
      help: 'Committed order state changes, by new status and reason (cancellations: USER, ADMIN, TIMEOUT)',
      labelNames: ['status', 'reason'] as const,
      registers,
    }),
    paymentResults: new Counter({
      name: 'qianfan_payment_results_total',
      help: 'Payment results applied, by outcome (PAID, FAILED, DUPLICATE, REFUNDING_ORPHAN = an unkept payment refunded)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    flashSalePurchases: new Counter({
      name: 'qianfan_flashsale_purchases_total',
      help: 'Flash-sale purchase attempts, by outcome (QUEUED, REPLAYED, or the refusal code)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    cache: new Counter({
      name: 'qianfan_cache_requests_total',
      help: 'Cache reads, by cache and result (hit, miss, error)',
      labelNames: ['cache', 'result'] as const,
      registers,
    }),
    txChecks: new Counter({
      name: 'qianfan_mq_tx_checks_total',
      help: 'Transaction-message check-backs answered, by answer (COMMIT, ROLLBACK, UNKNOWN)',
      labelNames: ['answer'] as const,
      registers,
    }),
    auditFindings: new Gauge({
      name: 'qianfan_audit_findings',
      help: 'Rows breaking each invariant in the last audit-invariants run (0 when it found none)',
      labelNames: ['check'] as const,
      registers,
    }),
    auditFindingsTotal: new Counter({
      name: 'qianfan_audit_findings_total',
      help: 'Rows found breaking each invariant, summed over audit runs',
      labelNames: ['check'] as const,
      registers,
    }),
    auditOrdersChecked: new Counter({
      name: 'qianfan_audit_orders_checked_total',
      help: 'Orders the audit has checked',
      registers,
    }),
    overduePending: new Gauge({
      name: 'qianfan_orders_overdue_pending',
      help: 'Orders still PENDING_PAYMENT past their payment deadline, as the close-expired-orders job last counted',
      registers,
    }),
    stuckRefunds: new Gauge({
      name: 'qianfan_refunds_stuck',
      help: 'Refunds PENDING for longer than the resend interval, as the resend-refunds job last counted',
      registers,
    }),
    refundsFailed: new Gauge({
      name: 'qianfan_refunds_failed',
      help: 'Refunds the provider refused (of="refund") and orders left REFUND_FAILED (of="order"), as resend-refunds last counted',
      labelNames: ['of'] as const,
      registers,
    }),
    refundsFailedOldest: new Gauge({
      name: 'qianfan_refunds_failed_oldest_seconds',
      help: 'How long the oldest refused refund (of="refund") or REFUND_FAILED order (of="order") has waited',
      labelNames: ['of'] as const,
      registers,
    }),
    afterSalesOpen: new Gauge({
      name: 'qianfan_aftersales_open',
      help: 'After-sales in each open state, as the resend-refunds job last counted',
      labelNames: ['status'] as const,
      registers,
    }),
    afterSalesOldest: new Gauge({
      name: 'qianfan_aftersales_oldest_seconds',
      help: 'How long the oldest after-sale in each open state has been in it (REQUESTED: waiting on the merchant)',
      labelNames: ['status'] as const,
      registers,
    }),
    deadLettersOpen: new Gauge({
      name: 'qianfan_dead_letters_open',
      help: 'Dead letters not yet resolved (PARKED or REPLAYED), by topic, as redrive-dead-letters last counted',
      labelNames: ['topic'] as const,
      registers,
    }),
  };
}

/** The service's RED and business metrics, created once per registry (process). */
export const serviceMetrics = perRegistry(build);
