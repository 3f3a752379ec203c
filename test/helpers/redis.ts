import type { RedisClient as Redis } from '../../internal/svc/index.js';

/** The real client with the commands sent through it counted by name (every call still reaches Redis). */
export function countingRedis(redis: Redis) {
  const counts = new Map<string, number>();
  const spy = new Proxy(redis, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (typeof prop === 'string') counts.set(prop, (counts.get(prop) ?? 0) + 1);
        return v.apply(target, args);
      };
    },
  });
  return { redis: spy, calls: (command: string) => counts.get(command) ?? 0, reset: () => counts.clear() };
}
