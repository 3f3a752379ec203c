import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { confirmReceipt } from '../../internal/delivery/index.js';
import {
  type CreatedOrder,
  cancelOrder,
  countMyOrders,
  createOrder,
  getOrderDetail,
  type ListOrdersInput,
  listOrders,
  setOrderVisibility,
  type TransitionResult,
} from '../../internal/order/index.js';
import { type PaymentRow, requestRefund, startPayment } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { principalOf, requireUser } from '../auth.js';
import { notModified } from '../etag.js';
import { idempotent } from '../idempotency.js';
import { listInput, orderBody, orderJson, pageBody } from '../presenters.js';
import {
  CreateOrderBody,
  errorResponses,
  IdempotencyHeader,
  IdParams,
  locationHeader,
  MyListQuery,
  Order,
  OrderCounts,
  OrderPage,
  OrderVisibility,
  Payment,
  ReasonBody,
  readErrorResponses,
  ref,
  reply,
  StartPaymentBody,
} from '../schemas.js';

const security = [{ bearer: [] }];

const paymentJson = (payment: PaymentRow, payUrl: string, client: Record<string, string>) => ({
  id: payment.id.toString(),
  orderId: payment.orderId.toString(),
  provider: payment.provider,
  amount: payment.amount,
  currency: payment.currency,
  status: payment.status as 'PENDING',
  payUrl,
  client,
});

/** The user's own orders: create, read, list, cancel, pay, confirm receipt, refund. */
export function orderRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const me = (req: Parameters<typeof principalOf>[0]) => BigInt(principalOf(req).userId);
  const userActor = (req: Parameters<typeof principalOf>[0]) => ({
    type: 'USER' as const,
    id: principalOf(req).userId,
  });
  const orderReply = reply(Order, 'The order, whole');

  app.post(
    '/v1/orders',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'createOrder',
        summary: 'Create an order',
        description: 'Reserves stock and creates an order in PENDING_PAYMENT (pay before payDeadline).',
        tags: ['orders'],
        security,
        headers: IdempotencyHeader,
        body: ref(CreateOrderBody),
        response: { 201: reply(Order, 'Created', locationHeader), ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) => {
        const answer = (r: CreatedOrder) => ({
          status: 201,
          body: orderJson(r.order, r.items),
          headers: { location: `/v1/orders/${r.order.id}` },
        });
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
      preHandler: requireUser,
      schema: {
        operationId: 'listOrders',
        summary: "List the buyer's orders",
        description: 'Newest first; pass nextCursor as cursor for the next page.',
        tags: ['orders'],
        security,
        querystring: MyListQuery,
        response: { 200: reply(OrderPage, 'One page of orders'), ...readErrorResponses },
      },
    },
    async (req, res) => {
      const input: ListOrdersInput = {
        ...listInput(req.query, me(req)),
        hidden: req.query.hidden === 'true' ? 'only' : 'exclude',
      };
      return res.send(pageBody(res, await listOrders(ctx, input)) as never);
    },
  );

  app.get(
    '/v1/orders/counts',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'countOrders',
        summary: "The buyer's orders per status (app badges)",
        description:
          'Hidden orders left out. Cached, and exact as soon as a change to one of the orders has committed.',
        tags: ['orders'],
        security,
        response: { 200: reply(OrderCounts, 'Counts per status'), ...readErrorResponses },
      },
    },
    async (req) => countMyOrders(ctx, me(req)),
  );

  for (const [action, hidden] of [
    ['hide', true],
    ['unhide', false],
  ] as const) {
    app.post(
      `/v1/orders/:id/${action}`,
      {
        preHandler: requireUser,
        schema: {
          operationId: hidden ? 'hideOrder' : 'unhideOrder',
          summary: hidden ? 'Hide a finished order from my list and counts' : 'Show a hidden order in my list again',
          description: hidden
            ? 'COMPLETED, CANCELLED or REFUNDED orders only. The order itself does not change (same ETag); its read by id still answers.'
            : "Any of the buyer's orders; a no-op when it is not hidden.",
          tags: ['orders'],
          security,
          headers: IdempotencyHeader,
          params: IdParams,
          response: { 200: reply(OrderVisibility, 'Done'), ...errorResponses },
        },
      },
      (req, res) =>
        idempotent(ctx, req, res, async () => ({
          status: 200,
          body: await setOrderVisibility(ctx, { orderId: BigInt(req.params.id), userId: me(req), hidden }),
        })),
    );
  }

  app.get(
    '/v1/orders/:id',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'getOrder',
        summary: 'Get one order',
        description:
          'The whole order: items, payment attempts, refunds, shipments and status timeline. Cheap to poll: send ' +
          'the ETag back in If-None-Match and get 304 while nothing changed; or watch GET /v1/orders/{id}/events.',
        tags: ['orders'],
        security,
        params: IdParams,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String({ maxLength: 512 })) }),
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
      const detail = await getOrderDetail(ctx, { orderId: BigInt(req.params.id), userId: me(req) });
      const { version, sideRev } = detail.order;
      if (notModified(req, res, req.params.id, `${version}.${sideRev}`)) return res.status(304).send(null);
      return res.send(orderBody(res, detail) as never);
    },
  );

  const transition = (r: TransitionResult) => ({ status: 200, body: orderJson(r.order, r.items) });

  app.post(
    '/v1/orders/:id/cancel',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'cancelOrder',
        summary: 'Cancel an unpaid order',
        description: 'PENDING_PAYMENT → CANCELLED; the reserved stock is released.',
        tags: ['orders'],
        security,
        headers: IdempotencyHeader,
        params: IdParams,
        response: { 200: orderReply, ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) => {
        const r = await cancelOrder(ctx, {
          orderId: BigInt(req.params.id),
          reason: 'USER',
          actor: userActor(req),
          userId: me(req),
          seal: (tx, done) => seal(tx, transition(done)),
        });
        return transition(r);
      }),
  );

  app.post(
    '/v1/orders/:id/payments',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'startPayment',
        summary: 'Start paying an order',
        description:
          'Opens a payment with the provider for the order total; `client` holds what the app needs to open the provider (WeChat Pay: codeUrl, h5Url, or JSAPI/APP parameters signed for the client; Alipay: payUrl, qrCode or the app orderString).',
        tags: ['payments'],
        security,
        headers: IdempotencyHeader,
        params: IdParams,
        body: ref(StartPaymentBody),
        response: { 201: reply(Payment, 'Payment started'), ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async () => {
        const { payment, payUrl, client } = await startPayment(ctx, {
          orderId: BigInt(req.params.id),
          userId: me(req),
          provider: req.body?.provider,
          method: req.body?.method,
          openId: req.body?.openId,
          clientIp: req.ip,
        });
        // No Location: a payment has no read route of its own; its outcome shows in the order.
        return { status: 201, body: paymentJson(payment, payUrl, client) };
      }),
  );

  app.post(
    '/v1/orders/:id/confirm-receipt',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'confirmReceipt',
        summary: 'Confirm receipt of a delivered order',
        description: 'DELIVERED → COMPLETED.',
        tags: ['orders'],
        security,
        headers: IdempotencyHeader,
        params: IdParams,
        response: { 200: orderReply, ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async () =>
        transition(
          await confirmReceipt(ctx, { orderId: BigInt(req.params.id), userId: me(req), actor: userActor(req) }),
        ),
      ),
  );

  app.post(
    '/v1/orders/:id/refunds',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'requestRefund',
        summary: 'Cancel a paid order that has not shipped: the whole amount back',
        description:
          'PAID → REFUNDING, the goods back to stock; the refund is sent to the provider. Once anything has shipped ' +
          'the answer is 409: money goes back by after-sale (POST /v1/orders/{id}/after-sales).',
        tags: ['refunds'],
        security,
        headers: IdempotencyHeader,
        params: IdParams,
        body: ref(ReasonBody),
        response: { 200: orderReply, ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async () =>
        transition(
          await requestRefund(ctx, {
            orderId: BigInt(req.params.id),
            userId: me(req),
            actor: userActor(req),
            reason: req.body.reason ?? 'requested by the buyer',
          }),
        ),
      ),
  );
}
