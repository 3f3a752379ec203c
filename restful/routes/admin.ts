import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasPermission } from '../../internal/auth/index.js';
import type { Permission } from '../../internal/config/index.js';
import { markDelivered, reportParcelLost, shipOrder } from '../../internal/delivery/index.js';
import { AppError } from '../../internal/errorx/index.js';
import {
  addOrderNote,
  adjustOrderPrice,
  cancelOrder,
  changeOrderAddress,
  exportOrdersCsv,
  getOrderDetail,
  listOrderNotes,
  searchOrders,
  summarizeSearch,
  validateSearch,
} from '../../internal/order/index.js';
import { requestRefund } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { principalOf, requirePermission } from '../auth.js';
import { notModified } from '../etag.js';
import { idempotent } from '../idempotency.js';
import { adminOrderJson, noteJson, orderJson, pageJson, searchInput } from '../presenters.js';
import {
  AddressChangeBody,
  ExportQuery,
  errorResponses,
  IdempotencyHeader,
  IdParams,
  LostParcelBody,
  NoteBody,
  Order,
  OrderNote,
  OrderNotes,
  OrderPage,
  PriceAdjustBody,
  ReasonBody,
  readErrorResponses,
  ref,
  reply,
  SearchQuery,
  SearchSummary,
  ShipBody,
  ShipmentParams,
  SummaryQuery,
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
        description:
          'Needs the permission orders:read. Filters combine with AND; newest first. Each page reads bounded ranges of one index, so a page may hold fewer orders than `limit` (even none) while `nextCursor` is not null: follow it until it is.',
        tags,
        security,
        querystring: SearchQuery,
        response: { 200: reply(OrderPage, 'One page of orders'), ...readErrorResponses },
      },
    },
    async (req) => {
      const { cursor, limit } = req.query;
      return pageJson(
        await searchOrders(ctx, searchInput(req.query), {
          cursor,
          limit: limit === undefined ? undefined : Number(limit),
        }),
      );
    },
  );

  app.get(
    '/v1/admin/orders/summary',
    {
      preHandler: read,
      schema: {
        operationId: 'adminSummarizeOrders',
        summary: 'Counts and amounts of a search, per status',
        description:
          'Needs the permission orders:read. Covers at most the newest 100,000 entries of the index the search reads; `complete` says whether that was all.',
        tags,
        security,
        querystring: SummaryQuery,
        response: { 200: reply(SearchSummary, 'The summary'), ...readErrorResponses },
      },
    },
    async (req) => summarizeSearch(ctx, searchInput(req.query)),
  );

  app.get(
    '/v1/admin/orders/export',
    {
      preHandler: requirePermission(ctx, 'orders:export'),
      config: { longLived: true },
      schema: {
        operationId: 'adminExportOrders',
        summary: 'A search as CSV, streamed',
        description:
          'Needs the permission orders:export; `phones=full` also needs orders:unmask, which the role admin does not give. UTF-8 with a BOM, CRLF, one row per order or per line, amounts in yuan, times in UTC. An export that fails midway ends the connection without the last chunk, so the client sees an incomplete transfer.',
        tags,
        security,
        querystring: ExportQuery,
        response: {
          200: {
            description: 'CSV, streamed',
            content: { 'text/csv': { schema: { type: 'string' } } },
          },
          ...readErrorResponses,
        },
      },
    },
    async (req, res) => {
      const fullPhones = req.query.phones === 'full';
      if (fullPhones && !hasPermission(principalOf(req), 'orders:unmask', ctx.config.auth.rolePermissions)) {
        throw new AppError(
          'FORBIDDEN',
          'full phone numbers need the permission orders:unmask (granted by name, not by the role admin); leave out phones=full for masked numbers',
          { permission: 'orders:unmask' },
        );
      }
      const filter = searchInput(req.query);
      const name = `orders-${new Date().toISOString().replaceAll(/[:.]/g, '-')}.csv`;
      validateSearch(filter); // a bad filter is a 400 here, not a broken download
      const csv = exportOrdersCsv(ctx, filter, { shape: req.query.shape ?? 'orders', fullPhones });
      req.log.info({ filter: req.query, fullPhones }, 'order export started');
      return res
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(csv) as never);
    },
  );

  app.get(
    '/v1/admin/orders/:id',
    {
      preHandler: read,
      schema: {
        operationId: 'adminGetOrder',
        summary: 'Get any order',
        description:
          'The whole order with who acted in its timeline and its internal notes. Needs the permission orders:read.',
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
      // Notes are append-only and read from MySQL (staff reads are few): their count is part of the tag.
      const notes = await listOrderNotes(ctx, detail.order.id);
      const { version, sideRev } = detail.order;
      if (notModified(req, res, req.params.id, `${version}.${sideRev}.${notes.length}`)) {
        return res.status(304).send(null);
      }
      return res.send(adminOrderJson(detail, notes) as never);
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
  const ship = mutation('shipOrder', 'Ship a parcel: some units, or all left (PAID → PARTIALLY_SHIPPED → SHIPPED)');

  app.post('/v1/admin/orders/:id/ship', { ...ship, schema: { ...ship.schema, body: ref(ShipBody) } }, (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const { carrier, trackingNo, lines } = req.body;
      const r = await shipOrder(ctx, {
        orderId: BigInt(req.params.id),
        carrier,
        trackingNo,
        lines: lines?.map((l) => ({ orderItemId: BigInt(l.orderItemId), quantity: l.quantity })),
        actor: actor(req),
      });
      return { status: 200, body: orderJson(r.order, r.items) };
    }),
  );

  app.post(
    '/v1/admin/orders/:id/deliver',
    mutation('markDelivered', 'Mark every parcel on its way delivered (SHIPPED → DELIVERED)'),
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await markDelivered(ctx, { orderId: BigInt(req.params.id), actor: actor(req) });
        return { status: 200, body: orderJson(r.order, r.items) };
      }),
  );

  const parcel = mutation(
    'markParcelDelivered',
    'Mark one parcel delivered; the order is DELIVERED when it is SHIPPED and every parcel not lost has arrived',
  );
  app.post(
    '/v1/admin/orders/:id/shipments/:shipmentId/deliver',
    { ...parcel, schema: { ...parcel.schema, params: ShipmentParams } },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await markDelivered(ctx, {
          orderId: BigInt(req.params.id),
          shipmentId: BigInt(req.params.shipmentId),
          actor: actor(req),
        });
        return { status: 200, body: orderJson(r.order, r.items) };
      }),
  );

  const lost = mutation(
    'reportParcelLost',
    'Report a parcel lost in transit: a refund-only after-sale for its units is opened and approved',
    'aftersale:review',
  );
  app.post(
    '/v1/admin/orders/:id/shipments/:shipmentId/lost',
    { ...lost, schema: { ...lost.schema, params: ShipmentParams, body: ref(LostParcelBody) } },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await reportParcelLost(ctx, {
          orderId: BigInt(req.params.id),
          shipmentId: BigInt(req.params.shipmentId),
          reason: req.body.reason,
          actor: actor(req),
        });
        return { status: 200, body: orderJson(r.order.order, r.order.items) };
      }),
  );

  app.post('/v1/admin/orders/:id/cancel', mutation('adminCancelOrder', 'Cancel any unpaid order'), (req, reply) =>
    idempotent(ctx, req, reply, async () => {
      const r = await cancelOrder(ctx, { orderId: BigInt(req.params.id), reason: 'ADMIN', actor: actor(req) });
      return { status: 200, body: orderJson(r.order, r.items) };
    }),
  );

  const address = mutation(
    'changeOrderAddress',
    "Change the receiver's address before shipping (PENDING_PAYMENT or PAID)",
  );
  app.post(
    '/v1/admin/orders/:id/address',
    { ...address, schema: { ...address.schema, body: ref(AddressChangeBody) } },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await changeOrderAddress(ctx, {
          orderId: BigInt(req.params.id),
          address: req.body.address,
          reason: req.body.reason,
          actor: actor(req),
        });
        return { status: 200, body: orderJson(r.order, r.items) };
      }),
  );

  const price = mutation(
    'adjustOrderPrice',
    'Adjust an unpaid order: shipping fee and/or discount (the total is items + shipping - discount)',
  );
  app.post(
    '/v1/admin/orders/:id/price',
    { ...price, schema: { ...price.schema, body: ref(PriceAdjustBody) } },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await adjustOrderPrice(ctx, {
          orderId: BigInt(req.params.id),
          shippingFee: req.body.shippingFee,
          discountAmount: req.body.discountAmount,
          reason: req.body.reason,
          actor: actor(req),
        });
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
