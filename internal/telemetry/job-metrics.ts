import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from './per-registry.js';

function build(registry: Registry) {
  return {
    runs: new Counter({
      name: 'qianfan_job_runs_total',
      help: 'Job runs by result (ok, failed, skipped)',
      labelNames: ['job', 'result'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'qianfan_job_duration_seconds',
      help: 'Duration of job runs',
      labelNames: ['job'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    items: new Counter({
      name: 'qianfan_job_items_total',
      help: 'Items a job handled (orders closed, refunds sent, rows deleted, ...)',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
    lastSuccess: new Gauge({
      name: 'qianfan_job_last_success_timestamp_seconds',
      help: 'Unix time of the last successful run of each job',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
  };
}

/** Job metrics, created once per registry. */
export const jobMetrics = perRegistry(build);
