import type { FastifyInstance } from 'fastify';
import { ingestPaymentWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../internal/payment/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';

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
      { schema: { tags: ['payments'], description: 'Provider callback; HMAC-SHA256 over `<timestamp>.<body>`' } },
      async (req, reply) => {
        const n = await ingestPaymentWebhook(ctx, {
          body: typeof req.body === 'string' ? req.body : '',
          timestamp: req.headers[TIMESTAMP_HEADER] as string | undefined,
          signature: req.headers[SIGNATURE_HEADER] as string | undefined,
        });
        return reply.status(202).send({ accepted: true, type: n.type });
      },
    );
  });
}
