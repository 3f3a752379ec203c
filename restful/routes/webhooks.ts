import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  ingestAlipayWebhook,
  ingestPaymentWebhook,
  ingestWechatpayWebhook,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from '../../internal/payment/index.js';
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

  await app.register(async (scoped) => {
    // Both providers sign the exact bytes sent: bodies stay strings (WeChat Pay JSON, Alipay a form).
    scoped.removeContentTypeParser(['application/json']);
    scoped.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'string' },
      (_req, body, done) => done(null, body),
    );
    const refusals = {
      400: errorResponses[400],
      401: reply(
        ErrorBody,
        'Signature, serial or timestamp invalid, or the resource does not decrypt (INVALID_SIGNATURE)',
      ),
      404: reply(ErrorBody, 'No payment or refund of ours has that number (PAYMENT_NOT_FOUND, REFUND_NOT_FOUND)'),
      409: reply(ErrorBody, 'The same signed request again (WEBHOOK_REPLAYED) or being received right now'),
      413: errorResponses[413],
      415: errorResponses[415],
      429: errorResponses[429],
      503: errorResponses[503],
    };
    scoped.post(
      '/v1/payments/webhooks/wechatpay',
      {
        schema: {
          operationId: 'receiveWechatpayNotification',
          summary: "WeChat Pay's payment and refund notifications (APIv3)",
          description:
            'Verified with the platform key named by Wechatpay-Serial over `timestamp\\nnonce\\nbody\\n`, timestamp within the window, resource decrypted with the APIv3 key; queued and answered 204. Any other answer makes WeChat Pay send it again.',
          tags: ['payments'],
          security: [],
          response: {
            204: { description: 'Verified and queued (or an event the service does not act on)', type: 'null' },
            ...refusals,
          },
        },
      },
      async (req, res) => {
        await ingestWechatpayWebhook(ctx, {
          headers: req.headers as Record<string, string | undefined>,
          body: typeof req.body === 'string' ? req.body : '',
        });
        return res.status(204).send();
      },
    );
    scoped.post(
      '/v1/payments/webhooks/alipay',
      {
        schema: {
          operationId: 'receiveAlipayNotification',
          summary: "Alipay's asynchronous trade notification",
          description:
            'Form-encoded; RSA2 signature over the sorted parameters checked with the Alipay public key, app_id ours, notify_time within the window; answered with the text `success` only once queued. Any other answer makes Alipay send it again.',
          tags: ['payments'],
          security: [],
          response: {
            200: {
              description: 'Verified and queued (or nothing to do)',
              content: { 'text/plain': { schema: { type: 'string', enum: ['success'] } } },
            },
            ...refusals,
          },
        },
      },
      async (req, res) => {
        await ingestAlipayWebhook(ctx, { body: typeof req.body === 'string' ? req.body : '' });
        return res.status(200).type('text/plain; charset=utf-8').send('success');
      },
    );
  });
}
