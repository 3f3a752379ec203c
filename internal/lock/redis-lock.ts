import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface Lock {
  key: string;
  token: string;
  /** Releases only if we still hold it (compare-and-delete), so an expired lock taken by another is safe. */
  release(): Promise<boolean>;
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/** Single-Redis lease lock: SET NX PX. Returns undefined when another holder has it. */
export async function tryLock(redis: Redis, name: string, ttlMs: number): Promise<Lock | undefined> {
  const key = `lock:${name}`;
  const token = randomUUID();
  const ok = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (ok !== 'OK') return undefined;
  return {
    key,
    token,
    release: async () => (await redis.eval(RELEASE, 1, key, token)) === 1,
  };
}
