import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ingestPaymentWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { ErrorBody, errorResponses, reply, WebhookAccepted } from '../schemas.js';

/**
 * Payment provider webhooks. Authenticated by HMAC signature over the raw body with a timestamp window
 * (no JWT); the notification is queued on payment_notify and answered 202.
 */
export async function webhookRoutes(app: FastifyInstance, ctx: ServiceContext): Promise<void> {
  await app.register(async (scoped) => {
    // The signature covers the exact bytes sent, so this scope keeps the body as a string.
    scoped.removeContentTypeParser('application/json');
    scoped.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scoped.post(
      '/v1/payments/webhooks/:provider',
      {
        schema: {
          operationId: 'receivePaymentWebhook',
          summary: "A payment provider's notification",
          description:
            'Signed with HMAC-SHA256 over `<timestamp>.<body>` (headers x-qf-timestamp, x-qf-signature); queued and answered 202.',
          tags: ['payments'],
          security: [],
          params: Type.Object({ provider: Type.String({ pattern: '^[a-z0-9_-]{1,32}$' }) }),
          response: {
            202: reply(WebhookAccepted, 'Verified and queued'),
            400: errorResponses[400],
            413: errorResponses[413],
            415: errorResponses[415],
            401: reply(ErrorBody, 'Signature or timestamp invalid (INVALID_SIGNATURE)'),
            409: reply(ErrorBody, 'Already received (WEBHOOK_REPLAYED) or being received right now'),
            429: errorResponses[429],
            503: errorResponses[503],
          },
        },
      },
      async (req, reply) => {
        const n = await ingestPaymentWebhook(ctx, {
          provider: (req.params as { provider: string }).provider,
          body: typeof req.body === 'string' ? req.body : '',
          timestamp: req.headers[TIMESTAMP_HEADER] as string | undefined,
          signature: req.headers[SIGNATURE_HEADER] as string | undefined,
        });
        return reply.status(202).send({ accepted: true, type: n.type });
      },
    );
  });
}
