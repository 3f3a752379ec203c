import { collectDefaultMetrics, Registry } from 'prom-client';

/** One registry per process, with Node's default metrics and the process name as a label. */
export function createMetrics(opts: { service: string; process: string }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service: opts.service, process: opts.process });
  collectDefaultMetrics({ register: registry });
  return registry;
}
