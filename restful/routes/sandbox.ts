import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../internal/errorx/index.js';
import {
  getPayment,
  type PaymentNotification,
  recordSandboxOutcome,
  refundsOfOrder,
  sandboxWebhook,
} from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { errorResponses, IdParams, reply, WebhookAccepted } from '../schemas.js';

/**
 * The sandbox payment provider's "payer" side, for development and tests only: registered only with
 * payment.sandbox.enabled (which production refuses). Sends a correctly signed webhook to our own webhook route.
 */
export function sandboxRoutes(root: FastifyInstance, ctx: ServiceContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const deliver = async (n: PaymentNotification) => {
    const w = sandboxWebhook(ctx.config.payment.webhookSecret, n);
    const res = await root.inject({
      method: 'POST',
      url: '/v1/payments/webhooks/sandbox',
      headers: w.headers,
      payload: w.body,
    });
    return { status: res.statusCode, body: res.json() as unknown };
  };

  app.post(
    '/v1/sandbox/payments/:id/:outcome',
    {
      schema: {
        operationId: 'sandboxCompletePayment',
        summary: 'Complete a sandbox payment',
        description: 'Outcome `succeed` or `fail`; sends a signed webhook to this service. Development only.',
        tags: ['sandbox'],
        security: [],
        response: {
          202: reply(WebhookAccepted, 'The webhook was accepted'),
          400: errorResponses[400],
          413: errorResponses[413],
          415: errorResponses[415],
          404: errorResponses[404],
          409: errorResponses[409],
          503: errorResponses[503],
        },
        params: Type.Object({
          id: IdParams.properties.id,
          outcome: Type.Union([Type.Literal('succeed'), Type.Literal('fail')]),
        }),
      },
    },
    async (req, reply) => {
      const p = await getPayment(ctx.db, BigInt(req.params.id));
      if (p?.provider !== 'sandbox')
        throw new AppError('PAYMENT_NOT_FOUND', `sandbox payment ${req.params.id} not found`);
      await recordSandboxOutcome(ctx, p.id, req.params.outcome);
      const r = await deliver({
        type: req.params.outcome === 'succeed' ? 'payment.succeeded' : 'payment.failed',
        paymentId: p.id.toString(),
        orderId: p.orderId.toString(),
        providerTxnId: p.providerTxnId ?? '',
        amount: p.amount,
        currency: p.currency,
        occurredAt: new Date().toISOString(),
        ...(req.params.outcome === 'fail' ? { failureReason: 'declined in the sandbox' } : {}),
      });
      // The webhook route's own answer (status and body), passed through.
      return reply.status(r.status as 202).send(r.body as never);
    },
  );

  app.post(
    '/v1/sandbox/orders/:id/refunds/confirm',
    {
      schema: {
        operationId: 'sandboxConfirmRefunds',
        summary: "Confirm the order's pending sandbox refunds",
        description: 'Sends a signed refund.succeeded webhook per pending refund. Development only.',
        tags: ['sandbox'],
        security: [],
        params: IdParams,
        response: {
          202: Type.Object({ confirmed: Type.Integer() }, { description: 'Webhooks sent' }),
          400: errorResponses[400],
          413: errorResponses[413],
          415: errorResponses[415],
          404: errorResponses[404],
        },
      },
    },
    async (req, reply) => {
      const pending = (await refundsOfOrder(ctx.db, BigInt(req.params.id))).filter((r) => r.status === 'PENDING');
      if (pending.length === 0) throw new AppError('REFUND_NOT_FOUND', `order ${req.params.id} has no pending refund`);
      const results = [];
      for (const r of pending) {
        results.push(
          await deliver({
            type: 'refund.succeeded',
            refundId: r.id.toString(),
            orderId: r.orderId.toString(),
            amount: r.amount,
            occurredAt: new Date().toISOString(),
          }),
        );
      }
      return reply.status(202).send({ confirmed: results.length });
    },
  );
}
