import { Counter, Histogram, type Registry } from 'prom-client';
import { perRegistry } from './per-registry.js';

function build(registry: Registry) {
  return {
    consumed: new Counter({
      name: 'qianfan_mq_consumed_total',
      help: 'Messages handled by consumers, by result (ok, retry, parked)',
      labelNames: ['topic', 'group', 'result'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'qianfan_mq_dead_letters_total',
      help: 'Messages recorded in the dead-letter table, by source (PARKED by a consumer, DLQ read from the broker)',
      labelNames: ['topic', 'group', 'source'] as const,
      registers: [registry],
    }),
    receiveFailures: new Counter({
      name: 'qianfan_mq_receive_failures_total',
      help: 'Receive calls to the broker that failed (refused, timed out, unreachable); the loop retries each after 1 s',
      labelNames: ['topic', 'group'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'qianfan_mq_consume_duration_seconds',
      help: 'Time to handle one message',
      labelNames: ['topic', 'group'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

/** Consumer metrics, created once per registry. */
export const mqMetrics = perRegistry(build);
