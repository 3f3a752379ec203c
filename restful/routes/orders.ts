import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { confirmReceipt } from '../../internal/delivery/index.js';
import {
  type CreatedOrder,
  cancelOrder,
  createOrder,
  getOrderDetail,
  listOrders,
  type TransitionResult,
} from '../../internal/order/index.js';
import { requestRefund, startPayment } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { authenticate, principalOf } from '../auth.js';
import { idempotent } from '../idempotency.js';
import { listInput, orderJson, pageJson } from '../presenters.js';
import {
  CreateOrderBody,
  errorResponses,
  IdParams,
  ListQuery,
  Order,
  OrderPage,
  Payment,
  ReasonBody,
  StartPaymentBody,
} from '../schemas.js';

const security = [{ bearer: [] }];
const idemHeader = Type.Object({ 'idempotency-key': Type.String({ minLength: 8, maxLength: 128 }) });

/** The user's own orders: create, read, list, cancel, pay, confirm receipt, refund. */
export function orderRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const auth = authenticate(ctx);
  const me = (req: Parameters<typeof principalOf>[0]) => BigInt(principalOf(req).userId);
  const userActor = (req: Parameters<typeof principalOf>[0]) => ({
    type: 'USER' as const,
    id: principalOf(req).userId,
  });

  app.post(
    '/v1/orders',
    {
      preHandler: auth,
      schema: {
        tags: ['orders'],
        security,
        headers: idemHeader,
        body: CreateOrderBody,
        response: { 201: Order, ...errorResponses },
      },
    },
    (req, reply) =>
      idempotent(ctx, req, reply, async (seal) => {
        const answer = (r: CreatedOrder) => ({ status: 201, body: orderJson(r.order, r.items) });
        const created = await createOrder(ctx, {
          userId: me(req),
          items: req.body.items.map((i) => ({ skuId: BigInt(i.skuId), quantity: i.quantity })),
          address: req.body.address,
          note: req.body.note,
          source: 'APP',
          seal: (tx, r) => seal(tx, answer(r)),
        });
        return answer(created);
      }),
  );

  app.get(
    '/v1/orders',
    {
      preHandler: auth,
      schema: { tags: ['orders'], security, querystring: ListQuery, response: { 200: OrderPage, ...errorResponses } },
    },
    async (req) => {
      return pageJson(await listOrders(ctx, listInput(req.query, me(req))));
    },
  );

  app.get(
    '/v1/orders/:id',
    {
      preHandler: auth,
      schema: { tags: ['orders'], security, params: IdParams, response: { 200: Order, ...errorResponses } },
    },
    async (req) => {
      const { order, items } = await getOrderDetail(ctx, { orderId: BigInt(req.params.id), userId: me(req) });
      return orderJson(order, items);
    },
  );

  app.post(
    '/v1/orders/:id/cancel',
    {
      preHandler: auth,
      schema: {
        tags: ['orders'],
        security,
        headers: idemHeader,
        params: IdParams,
        response: { 200: Order, ...errorResponses },
      },
    },
    (req, reply) =>
      idempotent(ctx, req, reply, async (seal) => {
        const answer = (r: TransitionResult) => ({ status: 200, body: orderJson(r.order) });
        const r = await cancelOrder(ctx, {
          orderId: BigInt(req.params.id),
          reason: 'USER',
          actor: userActor(req),
          userId: me(req),
          seal: (tx, res) => seal(tx, answer(res)),
        });
        return answer(r);
      }),
  );

  app.post(
    '/v1/orders/:id/payments',
    {
      preHandler: auth,
      schema: {
        tags: ['payments'],
        security,
        headers: idemHeader,
        params: IdParams,
        body: StartPaymentBody,
        response: { 201: Payment, ...errorResponses },
      },
    },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const { payment, payUrl } = await startPayment(ctx, {
          orderId: BigInt(req.params.id),
          userId: me(req),
          provider: req.body.provider,
        });
        return {
          status: 201,
          body: {
            id: payment.id.toString(),
            orderId: payment.orderId.toString(),
            provider: payment.provider,
            amount: payment.amount,
            currency: payment.currency,
            status: payment.status,
            payUrl,
          },
        };
      }),
  );

  app.post(
    '/v1/orders/:id/confirm-receipt',
    {
      preHandler: auth,
      schema: {
        tags: ['orders'],
        security,
        headers: idemHeader,
        params: IdParams,
        response: { 200: Order, ...errorResponses },
      },
    },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await confirmReceipt(ctx, { orderId: BigInt(req.params.id), userId: me(req), actor: userActor(req) });
        return { status: 200, body: orderJson(r.order) };
      }),
  );

  app.post(
    '/v1/orders/:id/refunds',
    {
      preHandler: auth,
      schema: {
        tags: ['refunds'],
        security,
        headers: idemHeader,
        params: IdParams,
        body: ReasonBody,
        response: { 200: Order, ...errorResponses },
      },
    },
    (req, reply) =>
      idempotent(ctx, req, reply, async () => {
        const r = await requestRefund(ctx, {
          orderId: BigInt(req.params.id),
          userId: me(req),
          actor: userActor(req),
          reason: req.body.reason ?? 'requested by the buyer',
        });
        return { status: 200, body: orderJson(r.order) };
      }),
  );
}
