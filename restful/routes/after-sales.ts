import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type AfterSaleResult,
  afterSalesOfOrderView,
  listAfterSalePage,
  previewAfterSale,
  readAfterSale,
  rejectAfterSale,
  shipReturn,
  withdrawAfterSale,
} from '../../internal/aftersale/index.js';
import { approveAfterSaleRequest, openAfterSaleRequest, receiveAfterSaleReturn } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { afterSaleJson, quoteJson } from '../after-sale-presenter.js';
import { principalOf, requirePermission, requireUser } from '../auth.js';
import { idempotent } from '../idempotency.js';
import {
  AfterSale,
  AfterSaleList,
  AfterSaleListQuery,
  AfterSaleRequestBody,
  errorResponses,
  IdempotencyHeader,
  IdParams,
  locationHeader,
  ReasonBody,
  RefundPreview,
  RefundPreviewQuery,
  ReturnShipmentBody,
  ReviewBody,
  readErrorResponses,
  ref,
  reply,
} from '../schemas.js';

const security = [{ bearer: [] }];
const tags = ['after-sales'];

const linesOf = (q: string) =>
  q.split(',').map((pair) => {
    const [id, qty] = pair.split(':');
    return { orderItemId: BigInt(id!), quantity: Number(qty) };
  });

/**
 * After-sales (售后): the buyer asks for money back for some units of a delivered order (refund only, or
 * return and refund), the merchant reviews and receives returns, the refund goes through the provider.
 */
export function afterSaleRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const me = (req: FastifyRequest) => BigInt(principalOf(req).userId);
  const user = (req: FastifyRequest) => ({ type: 'USER' as const, id: principalOf(req).userId });
  const staff = (req: FastifyRequest) => ({ type: 'ADMIN' as const, id: principalOf(req).userId });
  const review = requirePermission(ctx, 'aftersale:review');
  const one = reply(AfterSale, 'The after-sale');
  const answer = (r: AfterSaleResult) => ({ status: 200, body: afterSaleJson(r.afterSale, r.lines) });

  app.get(
    '/v1/orders/:id/refund-preview',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'previewRefund',
        summary: 'What returning some units would refund',
        description:
          'Nothing is asked or held. The same rule fixes the amount when the after-sale is requested: each line carries its share of the order discount; the shipping fee comes back with the request that leaves nothing unrefunded.',
        tags,
        security,
        params: IdParams,
        querystring: RefundPreviewQuery,
        response: { 200: reply(RefundPreview, 'The amounts, in fen'), ...readErrorResponses },
      },
    },
    async (req) =>
      quoteJson(
        await previewAfterSale(ctx, {
          orderId: BigInt(req.params.id),
          userId: me(req),
          lines: linesOf(req.query.lines),
        }),
      ),
  );

  app.post(
    '/v1/orders/:id/after-sales',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'requestAfterSale',
        summary: 'Ask for money back for some units of a delivered order',
        description: `REQUESTED; the merchant approves or rejects it. Within order.refundWindowDays of delivery; one open after-sale per line.`,
        tags,
        security,
        headers: IdempotencyHeader,
        params: IdParams,
        body: ref(AfterSaleRequestBody),
        response: { 201: reply(AfterSale, 'Requested', locationHeader), ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) => {
        const created = (r: AfterSaleResult) => ({
          status: 201,
          body: afterSaleJson(r.afterSale, r.lines),
          headers: { location: `/v1/after-sales/${r.afterSale.id}` },
        });
        const r = await openAfterSaleRequest(ctx, {
          orderId: BigInt(req.params.id),
          userId: me(req),
          kind: req.body.kind,
          reason: req.body.reason,
          evidence: req.body.evidence,
          lines: req.body.lines.map((l) => ({ orderItemId: BigInt(l.orderItemId), quantity: l.quantity })),
          seal: (tx, result) => seal(tx, created(result)),
        });
        return created(r);
      }),
  );

  app.get(
    '/v1/orders/:id/after-sales',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'listOrderAfterSales',
        summary: "An order's after-sales",
        tags,
        security,
        params: IdParams,
        response: { 200: reply(AfterSaleList, 'Oldest first'), ...readErrorResponses },
      },
    },
    async (req) => ({
      items: (await afterSalesOfOrderView(ctx, { orderId: BigInt(req.params.id), userId: me(req) })).map((v) =>
        afterSaleJson(v.afterSale, v.lines),
      ),
      nextCursor: null,
    }),
  );

  app.get(
    '/v1/after-sales/:id',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'getAfterSale',
        summary: 'One of my after-sales, with its history',
        tags,
        security,
        params: IdParams,
        response: { 200: one, ...readErrorResponses },
      },
    },
    async (req) => {
      const v = await readAfterSale(ctx, { afterSaleId: BigInt(req.params.id), userId: me(req) });
      return afterSaleJson(v.afterSale, v.lines, v.log);
    },
  );

  const buyerStep = (operationId: string, summary: string, description: string) => ({
    preHandler: requireUser,
    schema: { operationId, summary, description, tags, security, headers: IdempotencyHeader, params: IdParams },
  });

  const withdraw = buyerStep('withdrawAfterSale', 'Withdraw my after-sale', 'REQUESTED | APPROVED → CLOSED.');
  app.post(
    '/v1/after-sales/:id/withdraw',
    { ...withdraw, schema: { ...withdraw.schema, body: ref(ReasonBody), response: { 200: one, ...errorResponses } } },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) =>
        answer(
          await withdrawAfterSale(ctx, {
            afterSaleId: BigInt(req.params.id),
            userId: me(req),
            actor: user(req),
            reason: req.body?.reason,
            seal: (tx, r) => seal(tx, answer(r)),
          }),
        ),
      ),
  );

  const ship = buyerStep(
    'shipAfterSaleReturn',
    'I have sent the goods back',
    'APPROVED → RETURN_SHIPPED (returns only).',
  );
  app.post(
    '/v1/after-sales/:id/return-shipment',
    { ...ship, schema: { ...ship.schema, body: ref(ReturnShipmentBody), response: { 200: one, ...errorResponses } } },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) =>
        answer(
          await shipReturn(ctx, {
            afterSaleId: BigInt(req.params.id),
            userId: me(req),
            actor: user(req),
            ...req.body,
            seal: (tx, r) => seal(tx, answer(r)),
          }),
        ),
      ),
  );

  app.get(
    '/v1/admin/after-sales',
    {
      preHandler: review,
      schema: {
        operationId: 'listAfterSales',
        summary: 'After-sales, newest first',
        description: 'Needs the permission aftersale:review. `status=REQUESTED` is the queue waiting on the merchant.',
        tags,
        security,
        querystring: AfterSaleListQuery,
        response: { 200: reply(AfterSaleList, 'One page'), ...readErrorResponses },
      },
    },
    async (req) => {
      const page = await listAfterSalePage(ctx, {
        status: req.query.status,
        cursor: req.query.cursor === undefined ? undefined : BigInt(req.query.cursor),
        limit: Number(req.query.limit ?? 20),
      });
      return { items: page.items.map((v) => afterSaleJson(v.afterSale, v.lines)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/after-sales/:id',
    {
      preHandler: review,
      schema: {
        operationId: 'adminGetAfterSale',
        summary: 'One after-sale with its history and who acted',
        description: 'Needs the permission aftersale:review.',
        tags,
        security,
        params: IdParams,
        response: { 200: one, ...readErrorResponses },
      },
    },
    async (req) => {
      const v = await readAfterSale(ctx, { afterSaleId: BigInt(req.params.id) });
      return afterSaleJson(v.afterSale, v.lines, v.log, true);
    },
  );

  const staffStep = (operationId: string, summary: string, description: string) => ({
    preHandler: review,
    schema: {
      operationId,
      summary,
      description: `Needs the permission aftersale:review. ${description}`,
      tags,
      security,
      headers: IdempotencyHeader,
      params: IdParams,
    },
  });

  const approve = staffStep(
    'approveAfterSale',
    'Approve an after-sale',
    'REQUESTED → APPROVED; a refund-only request goes on to REFUNDING at once and its refund is sent to the provider.',
  );
  app.post(
    '/v1/admin/after-sales/:id/approve',
    { ...approve, schema: { ...approve.schema, body: ref(ReviewBody), response: { 200: one, ...errorResponses } } },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) =>
        answer(
          await approveAfterSaleRequest(ctx, {
            afterSaleId: BigInt(req.params.id),
            actor: staff(req),
            note: req.body?.note,
            seal: (tx, r) => seal(tx, answer(r)),
          }),
        ),
      ),
  );

  const reject = staffStep(
    'rejectAfterSale',
    'Reject an after-sale',
    'REQUESTED → REJECTED; `note` (required) tells the buyer why.',
  );
  app.post(
    '/v1/admin/after-sales/:id/reject',
    { ...reject, schema: { ...reject.schema, body: ref(ReviewBody), response: { 200: one, ...errorResponses } } },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) =>
        answer(
          await rejectAfterSale(ctx, {
            afterSaleId: BigInt(req.params.id),
            actor: staff(req),
            note: req.body?.note ?? '',
            seal: (tx, r) => seal(tx, answer(r)),
          }),
        ),
      ),
  );

  const receive = staffStep(
    'receiveAfterSaleReturn',
    'The returned goods arrived',
    'RETURN_SHIPPED → RETURN_RECEIVED → REFUNDING: the units go back to stock once and the refund is sent.',
  );
  app.post(
    '/v1/admin/after-sales/:id/receive',
    { ...receive, schema: { ...receive.schema, response: { 200: one, ...errorResponses } } },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) =>
        answer(
          await receiveAfterSaleReturn(ctx, {
            afterSaleId: BigInt(req.params.id),
            actor: staff(req),
            seal: (tx, r) => seal(tx, answer(r)),
          }),
        ),
      ),
  );
}
