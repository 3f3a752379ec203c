import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { getOrderDetail, OrderWatchHub } from '../internal/order/index.js';
import type { ServiceContext } from '../internal/svc/index.js';
import { principalOf, requireUser } from './auth.js';
import { IdParams, readErrorResponses } from './schemas.js';

/**
 * Live order status as Server-Sent Events, fed by the process's OrderWatchHub (internal/order/watch-hub.ts):
 * each event is one version, `id` = version, so a client that reconnects with Last-Event-ID gets exactly
 * the versions after it. A heartbeat comment keeps proxies from closing an idle stream.
 */
export function orderWatchRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { orderStreamsPerUser, orderStreamsPerProcess, orderStreamHeartbeatMs } = ctx.config.http;
  const hub = new OrderWatchHub(ctx, {
    perUser: orderStreamsPerUser,
    perProcess: orderStreamsPerProcess,
    heartbeatMs: orderStreamHeartbeatMs,
  });
  app.addHook('preClose', async () => hub.closeAll());
  app.addHook('onClose', async () => hub.stop());

  app.get(
    '/v1/orders/:id/events',
    {
      preHandler: requireUser,
      config: { longLived: true },
      schema: {
        operationId: 'watchOrder',
        summary: "An order's status, live (Server-Sent Events)",
        description:
          "Each event is one version of the order (`id` = version, `event: order`, `data` = {orderId, version, status, previousStatus, reason, at}); the first is the current version, or every version after `Last-Event-ID` when the client resumes. A comment line every heartbeat. Another user's order is 404. At most http.orderStreamsPerUser open streams per user per process (429 TOO_MANY_STREAMS).",
        tags: ['orders'],
        security: [{ bearer: [] }],
        params: IdParams,
        headers: Type.Object({
          'last-event-id': Type.Optional(
            Type.String({ pattern: '^\\d{1,9}$', description: 'The last version received' }),
          ),
        }),
        response: {
          200: {
            description: 'text/event-stream, until the client or the server closes it',
            content: { 'text/event-stream': { schema: { type: 'string' } } },
          },
          ...readErrorResponses,
        },
      },
    },
    async (req, reply) => {
      const userId = BigInt(principalOf(req).userId);
      const orderId = BigInt(req.params.id);
      const detail = await getOrderDetail(ctx, { orderId, userId }); // 404 for someone else's order
      const given = req.headers['last-event-id'];
      const after = typeof given === 'string' ? Number(given) : detail.order.version - 1;
      hub.admit(String(userId));
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no', // nginx: pass events on as they come
        'x-request-id': String(req.id),
        connection: 'keep-alive',
      });
      reply.raw.write('retry: 2000\n\n');
      const close = hub.open({
        orderId,
        user: String(userId),
        after,
        send: (c) => reply.raw.write(`id: ${c.version}\nevent: order\ndata: ${JSON.stringify(c)}\n\n`),
        beat: () => reply.raw.write(': heartbeat\n\n'),
        end: () => reply.raw.end(),
      });
      reply.raw.on('close', close);
    },
  );
}
