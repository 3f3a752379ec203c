// The least a purchase can cost on this host: a bare Fastify route (bench/bare-fastify.ts) that also
// runs the admission script through the project's ioredis client, and nothing else — no token check,
// rate limit, validation, metrics, tracing or broker. Every correct purchase does at least this work.
// argv: <port> <saleId>; config from QIANFAN_* like the service.
import Fastify from 'fastify';
import { loadConfig } from '../internal/config/index.js';
import { saleKeys } from '../internal/flashsale/index.js';
import { PURCHASE } from '../internal/flashsale/scripts.js';
import { openRedis } from '../internal/svc/redis.js';

const [port, saleId] = process.argv.slice(2);
const redis = await openRedis(loadConfig().redis);
const k = saleKeys(saleId!);
const app = Fastify({ logger: false });
let n = 0;
app.post('/floor', async (req, reply) => {
  const user = String(3_000_000 + (n++ % 2000));
  const key = String(req.headers['idempotency-key']);
  const [code, seq] = (await PURCHASE.run(
    redis,
    [k.meta, k.stock, k.users, k.tickets, k.queued, k.idem(user, key)],
    [Date.now(), user, 1, key, JSON.stringify(req.body), 'h', 60],
  )) as [number, string?];
  if (code !== 1) return reply.status(409).send({ code });
  return reply.status(202).send({ ticketId: `${saleId}-${seq ?? key}`, status: 'QUEUED' });
});
app.get('/floor', async () => ({ ok: true }));
await app.listen({ host: '127.0.0.1', port: Number(port) });
