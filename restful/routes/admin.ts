import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Permission } from '../../internal/config/index.js';
import { markDelivered, shipOrder } from '../../internal/delivery/index.js';
import {
  addOrderNote,
  cancelOrder,
  getOrderDetail,
  listOrderNotes,
  listOrders,
  type OrderNoteRow,
} from '../../internal/order/index.js';
import { requestRefund } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { principalOf, requirePermission } from '../auth.js';
import { notModified } from '../etag.js';
import { idempotent } from '../idempotency.js';
import { listInput, orderBody, orderJson, pageJson } from '../presenters.js';
import {
  errorResponses,
  IdempotencyHeader,
  IdParams,
  ListQuery,
  NoteBody,
  Order,
  OrderNote,
  OrderNotes,
  OrderPage,
  ReasonBody,
  readErrorResponses,
  ref,
  reply,
  ShipBody,
} from '../schemas.js';

const security = [{ bearer: [] }];

/**
 * Admin operations on any order, each behind one permission (role `admin` has all): search and read
 * (orders:read), ship, mark delivered, cancel (orders:write), refund (orders:refund).
 */
export function adminRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const read = requirePermission(ctx, 'orders:read');
  const write = requirePermission(ctx, 'orders:write');
  const actor = (req: FastifyRequest) => ({ type: 'ADMIN' as const, id: principalOf(req).userId });
  const tags = ['admin'];

  app.get(
    '/v1/admin/orders',
    {
      preHandler: read,
      schema: {
        operationId: 'adminListOrders',
        summary: 'Search orders across users',
        description: 'Needs the permission orders:read.',
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
      preHandler: read,
      schema: {
        operationId: 'adminGetOrder',
        summary: 'Get any order',
        description: 'Needs the permission orders:read.',
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

  const mutation = (operationId: string, summary: string, permission: Permission = 'orders:write') => ({
    preHandler: permission === 'orders:write' ? write : requirePermission(ctx, permission),
    schema: {
      operationId,
      summary,
      description: `Needs the permission ${permission}.`,
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

  const refund = mutation('adminRefundOrder', 'Refund any paid order', 'orders:refund');
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

  const noteJson = (n: OrderNoteRow) => ({
    id: String(n.id),
    orderId: String(n.orderId),
    authorId: n.authorId,
    body: n.body,
    createdAt: n.createdAt.toISOString(),
  });

  app.post(
    '/v1/admin/orders/:id/notes',
    {
      preHandler: write,
      schema: {
        operationId: 'addOrderNote',
        summary: 'Add an internal note to an order',
        description:
          'Needs the permission orders:write. Append-only, with its author and time; never shown to the buyer. At most 200 per order.',
        tags,
        security,
        headers: IdempotencyHeader,
        params: IdParams,
        body: ref(NoteBody),
        response: { 201: reply(OrderNote, 'Added'), ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async () => ({
        status: 201,
        body: noteJson(
          await addOrderNote(ctx, {
            orderId: BigInt(req.params.id),
            authorId: principalOf(req).userId,
            body: req.body.body,
          }),
        ),
      })),
  );

  app.get(
    '/v1/admin/orders/:id/notes',
    {
      preHandler: read,
      schema: {
        operationId: 'listOrderNotes',
        summary: "An order's internal notes, oldest first",
        description: 'Needs the permission orders:read.',
        tags,
        security,
        params: IdParams,
        response: { 200: reply(OrderNotes, 'The notes'), ...readErrorResponses },
      },
    },
    async (req) => ({ notes: (await listOrderNotes(ctx, BigInt(req.params.id))).map(noteJson) }),
  );
}
