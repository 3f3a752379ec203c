import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { markDelivered, shipOrder } from '../../internal/delivery/index.js';
import { cancelOrder, getOrderDetail, listOrders } from '../../internal/order/index.js';
import { requestRefund } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { authenticate, principalOf, requireAdmin } from '../auth.js';
import { idempotent } from '../idempotency.js';
import { listInput, orderJson, pageJson } from '../presenters.js';
import { errorResponses, IdParams, ListQuery, Order, OrderPage, ReasonBody, ShipBody } from '../schemas.js';

const security = [{ bearer: [] }];
const idemHeader = Type.Object({ 'idempotency-key': Type.String({ minLength: 8, maxLength: 128 }) });

/** Admin operations (role `admin`): search, ship, mark delivered, cancel, refund any order. */
export function adminRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const preHandler = [...authenticate(ctx), requireAdmin];
  const actor = (req: FastifyRequest) => ({ type: 'ADMIN' as const, id: principalOf(req).userId });
  const tags = ['admin'];

  app.get(
    '/v1/admin/orders',
    { preHandler, schema: { tags, security, querystring: ListQuery, response: { 200: OrderPage, ...errorResponses } } },
    async (req) => {
      return pageJson(
        await listOrders(ctx, listInput(req.query, req.query.userId ? BigInt(req.query.userId) : undefined)),
      );
    },
  );

  app.get(
    '/v1/admin/orders/:id',
    { preHandler, schema: { tags, security, params: IdParams, response: { 200: Order, ...errorResponses } } },
    async (req) => {
      const { order, items } = await getOrderDetail(ctx, { orderId: BigInt(req.params.id) });
      return orderJson(order, items);
    },
  );

  const mutation = {
    preHandler,
    schema: { tags, security, headers: idemHeader, params: IdParams, response: { 200: Order, ...errorResponses } },
  };

  app.post('/v1/admin/orders/:id/ship', { ...mutation, schema: { ...mutation.schema, body: ShipBody } }, (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const r = await shipOrder(ctx, { orderId: BigInt(req.params.id), ...req.body, actor: actor(req) });
      return { status: 200, body: orderJson(r.order) };
    }),
  );

  app.post('/v1/admin/orders/:id/deliver', mutation, (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const r = await markDelivered(ctx, { orderId: BigInt(req.params.id), actor: actor(req) });
      return { status: 200, body: orderJson(r.order) };
    }),
  );

  app.post('/v1/admin/orders/:id/cancel', mutation, (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const r = await cancelOrder(ctx, { orderId: BigInt(req.params.id), reason: 'ADMIN', actor: actor(req) });
      return { status: 200, body: orderJson(r.order) };
    }),
  );

  app.post(
    '/v1/admin/orders/:id/refunds',
    { ...mutation, schema: { ...mutation.schema, body: ReasonBody } },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await requestRefund(ctx, {
          orderId: BigInt(req.params.id),
          actor: actor(req),
          reason: req.body.reason ?? 'refunded by support',
        });
        return { status: 200, body: orderJson(r.order) };
      }),
  );
}
