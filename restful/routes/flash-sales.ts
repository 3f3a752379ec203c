import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import {
  createFlashSale,
  flashSaleStats,
  getFlashSale,
  getTicket,
  purchase,
  type QueuedTicket,
  type SaleRow,
} from '../../internal/flashsale/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { principalOf, requirePermission, requireUser } from '../auth.js';
import { idempotent } from '../idempotency.js';
import {
  CreateFlashSaleBody,
  errorResponses,
  FlashSale,
  FlashSaleStats,
  IdempotencyHeader,
  IdParams,
  locationHeader,
  PurchaseAccepted,
  PurchaseBody,
  readErrorResponses,
  ref,
  reply,
  Ticket,
  TicketParams,
} from '../schemas.js';

const security = [{ bearer: [] }];
const tags = ['flash-sales'];

const saleJson = (sale: SaleRow, remaining: number) => ({
  id: String(sale.id),
  skuId: String(sale.skuId),
  title: sale.title,
  price: sale.price,
  stock: sale.stock,
  perUserLimit: sale.perUserLimit,
  startsAt: sale.startsAt.toISOString(),
  endsAt: sale.endsAt.toISOString(),
  remaining,
});

/**
 * Flash sales: admins create and inspect them; buyers read one, buy (202 + a ticket; admission in Redis,
 * no database access) and poll their ticket. `tickets` is the process's batcher and its send gate.
 */
export function flashSaleRoutes(
  root: FastifyInstance,
  ctx: ServiceContext,
  tickets: { enqueue: (saleId: string, ticket: QueuedTicket) => Promise<void>; admitting: () => boolean },
): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/v1/admin/flash-sales',
    {
      preHandler: requirePermission(ctx, 'flashsales:write'),
      schema: {
        operationId: 'createFlashSale',
        summary: "Create a flash sale from a SKU's available stock",
        tags,
        security,
        headers: IdempotencyHeader,
        body: ref(CreateFlashSaleBody),
        response: { 201: reply(FlashSale, 'Created', locationHeader), ...errorResponses },
      },
    },
    (req, res) =>
      idempotent(ctx, req, res, async (seal) => {
        const answer = (sale: SaleRow) => ({
          status: 201,
          body: saleJson(sale, sale.stock),
          headers: { location: `/v1/admin/flash-sales/${sale.id}` },
        });
        const spec = {
          ...req.body,
          skuId: BigInt(req.body.skuId),
          startsAt: new Date(req.body.startsAt),
          endsAt: new Date(req.body.endsAt),
        };
        return answer(await createFlashSale(ctx, spec, (tx, sale) => seal(tx, answer(sale))));
      }),
  );

  app.get(
    '/v1/admin/flash-sales/:id',
    {
      preHandler: requirePermission(ctx, 'flashsales:read'),
      schema: {
        operationId: 'getFlashSaleStats',
        summary: 'A flash sale with its counters from Redis and the database',
        tags,
        security,
        params: IdParams,
        response: { 200: reply(FlashSaleStats, 'The sale and its counters'), ...readErrorResponses },
      },
    },
    async (req) => {
      const s = await flashSaleStats(ctx, BigInt(req.params.id));
      return { sale: saleJson(s.sale, s.remaining), redis: s.redis, db: s.db };
    },
  );

  app.get(
    '/v1/flash-sales/:id',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'getFlashSale',
        summary: 'A flash sale: price, window and remaining stock',
        tags,
        security,
        params: IdParams,
        response: { 200: reply(FlashSale, 'The sale'), ...readErrorResponses },
      },
    },
    async (req) => {
      const s = await getFlashSale(ctx, BigInt(req.params.id));
      return saleJson(s.sale, s.remaining);
    },
  );

  app.post(
    '/v1/flash-sales/:id/purchases',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'purchaseFlashSale',
        summary: 'Buy in a flash sale',
        description: 'Admission in Redis; answers 202 with a ticket that becomes an order shortly after.',
        tags,
        security,
        params: IdParams,
        headers: IdempotencyHeader,
        body: ref(PurchaseBody),
        response: { 202: reply(PurchaseAccepted, 'Queued'), ...errorResponses },
      },
    },
    async (req, res) => {
      const r = await purchase(ctx, {
        saleId: BigInt(req.params.id),
        userId: BigInt(principalOf(req).userId),
        quantity: req.body.quantity ?? 1,
        address: req.body.address,
        idempotencyKey: req.headers['idempotency-key'],
        enqueue: tickets.enqueue,
        admitting: tickets.admitting,
      });
      if (r.replayed) res.header('idempotent-replayed', 'true');
      return res.status(202).send({ ticketId: r.ticketId, status: r.status });
    },
  );

  app.get(
    '/v1/flash-sales/tickets/:ticketId',
    {
      preHandler: requireUser,
      schema: {
        operationId: 'getFlashSaleTicket',
        summary: "A purchase ticket's state (QUEUED, ORDERED or FAILED)",
        tags,
        security,
        params: TicketParams,
        response: { 200: reply(Ticket, 'The ticket'), ...readErrorResponses },
      },
    },
    async (req) => getTicket(ctx, { ticketId: req.params.ticketId, userId: BigInt(principalOf(req).userId) }),
  );
}
