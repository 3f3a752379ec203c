import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { markDelivered, shipOrder } from '../../internal/delivery/index.js';
import { cancelOrder, getOrderDetail, listOrders } from '../../internal/order/index.js';
import { requestRefund } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { principalOf, requireAdmin, requireUser } from '../auth.js';
import { notModified } from '../etag.js';
import { idempotent } from '../idempotency.js';
import { listInput, orderBody, orderJson, pageJson } from '../presenters.js';
import {
  errorResponses,
  IdempotencyHeader,
  IdParams,
  ListQuery,
  Order,
  OrderPage,
  ReasonBody,
  readErrorResponses,
  ref,
  reply,
  ShipBody,
} from '../schemas.js';

const security = [{ bearer: [] }];

/** Admin operations (role `admin`): search, ship, mark delivered, cancel, refund any order. */
export function adminRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const preHandler = [requireUser, requireAdmin];
  const actor = (req: FastifyRequest) => ({ type: 'ADMIN' as const, id: principalOf(req).userId });
  const tags = ['admin'];

  app.get(
    '/v1/admin/orders',
    {
      preHandler,
      schema: {
        operationId: 'adminListOrders',
        summary: 'Search orders across users',
        tags,
        security,
        querystring: ListQuery,
        response: { 200: reply(OrderPage, 'One page of orders'), ...readErrorResponses },
      },
    },
    async (req) => {
      return pageJson(
        await listOrders(ctx, listInput(req.query, req.query.userId ? BigInt(req.query.userId) : undefined)),
      );
    },
  );

  app.get(
    '/v1/admin/orders/:id',
    {
      preHandler,
      schema: {
        operationId: 'adminGetOrder',
        summary: 'Get any order',
        tags,
        security,
        params: IdParams,
        response: {
          200: reply(Order, 'The order', {
            etag: { type: 'string', description: 'Changes whenever the order changes' },
          }),
          304: Type.Null({ description: 'Not modified: the ETag in If-None-Match is current' }),
          ...readErrorResponses,
        },
      },
    },
    async (req, res) => {
      const detail = await getOrderDetail(ctx, { orderId: BigInt(req.params.id) });
      if (notModified(req, res, req.params.id, detail.order.version)) return res.status(304).send(null);
      return res.send(orderBody(res, detail) as never);
    },
  );

  const mutation = (operationId: string, summary: string) => ({
    preHandler,
    schema: {
      operationId,
      summary,
      tags,
      security,
      headers: IdempotencyHeader,
      params: IdParams,
      response: { 200: reply(Order, 'The order, whole'), ...errorResponses },
    },
  });
  const ship = mutation('shipOrder', 'Ship a paid order (PAID → SHIPPED)');

  app.post('/v1/admin/orders/:id/ship', { ...ship, schema: { ...ship.schema, body: ref(ShipBody) } }, (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const r = await shipOrder(ctx, { orderId: BigInt(req.params.id), ...req.body, actor: actor(req) });
      return { status: 200, body: orderJson(r.order, r.items) };
    }),
  );

  app.post(
    '/v1/admin/orders/:id/deliver',
    mutation('markDelivered', 'Mark delivered (SHIPPED → DELIVERED)'),
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await markDelivered(ctx, { orderId: BigInt(req.params.id), actor: actor(req) });
        return { status: 200, body: orderJson(r.order, r.items) };
      }),
  );

  app.post('/v1/admin/orders/:id/cancel', mutation('adminCancelOrder', 'Cancel any unpaid order'), (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const r = await cancelOrder(ctx, { orderId: BigInt(req.params.id), reason: 'ADMIN', actor: actor(req) });
      return { status: 200, body: orderJson(r.order, r.items) };
    }),
  );

  const refund = mutation('adminRefundOrder', 'Refund any paid order');
  app.post(
    '/v1/admin/orders/:id/refunds',
    { ...refund, schema: { ...refund.schema, body: ref(ReasonBody) } },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await requestRefund(ctx, {
          orderId: BigInt(req.params.id),
          actor: actor(req),
          reason: req.body.reason ?? 'refunded by support',
        });
        return { status: 200, body: orderJson(r.order, r.items) };
      }),
  );
}
