import { Gauge, type Registry } from 'prom-client';
import type { Pool } from './db.js';

// mysql2 keeps its pool's state in these (undocumented but stable) arrays; read only at scrape time.
interface PoolState {
  _allConnections?: { length: number };
  _freeConnections?: { length: number };
  _connectionQueue?: { length: number };
}

/** MySQL pool gauges read when Prometheus scrapes: connections in use and idle, callers waiting. */
export function poolMetrics(registry: Registry, pool: Pool): void {
  const state = () => (pool as unknown as { pool: PoolState }).pool;
  new Gauge({
    name: 'qianfan_db_pool_connections',
    help: 'MySQL pool connections by state (in_use, idle)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = state();
      const all = s._allConnections?.length ?? 0;
      const idle = s._freeConnections?.length ?? 0;
      this.set({ state: 'in_use' }, all - idle);
      this.set({ state: 'idle' }, idle);
    },
  });
  new Gauge({
    name: 'qianfan_db_pool_waiting',
    help: 'Callers waiting for a MySQL pool connection',
    registers: [registry],
    collect() {
      this.set(state()._connectionQueue?.length ?? 0);
    },
  });
}
