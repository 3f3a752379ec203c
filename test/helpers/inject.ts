import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * Settings for a test file that sends hundreds of requests from 127.0.0.1: rate limits that are not what
 * it tests, counted under a Redis prefix of its own, so the tests after it (other processes, same address)
 * keep their budgets. Every process the file starts uses the same prefix, so they share caches as a
 * deployment would.
 */
export const ownRedis = (file: string) => ({
  QIANFAN_REDIS__KEY_PREFIX: `qf:order:test:${file}:`,
  QIANFAN_HTTP__RATE_LIMIT_PER_IP_PER_MINUTE: '1000000',
  QIANFAN_HTTP__RATE_LIMIT_PER_USER_PER_MINUTE: '1000000',
});

export interface Answer {
  status: number;
  body: Record<string, any>;
}

/** A JSON call to an in-process app with a bearer token; every POST carries a fresh Idempotency-Key. */
export const jsonCaller =
  (app: FastifyInstance) =>
  async (method: 'GET' | 'POST', url: string, token: string, body?: unknown): Promise<Answer> => {
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}) },
      ...(body !== undefined ? { payload: body as object } : method === 'POST' ? { payload: {} } : {}),
    });
    return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Record<string, any> };
  };
