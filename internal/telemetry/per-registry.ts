import type { Registry } from 'prom-client';

/** A set of metrics built once per registry (prom-client refuses to register a name twice). */
export function perRegistry<T>(build: (registry: Registry) => T): (registry: Registry) => T {
  const cache = new WeakMap<Registry, T>();
  return (registry) => {
    let m = cache.get(registry);
    if (m === undefined) {
      m = build(registry);
      cache.set(registry, m);
    }
    return m;
  };
}
