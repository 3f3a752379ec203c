import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { notificationJsonSchema } from '../internal/payment/index.js';
import { sharedSchemas } from './schemas.js';

const WEBHOOK_PATH = '/v1/payments/webhooks/{provider}';

/**
 * The served API document (/openapi.json, browsable at /docs): named component schemas from
 * `sharedSchemas`, referenced by `$ref` under their `$id`. The webhook body is verified by signature
 * over the raw bytes, so its schema is documented here rather than validated by the route.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'qianfan-order',
        version: '1',
        description: 'Order service of the qianfan platform. Money is integer fen; ids are decimal strings.',
        license: { name: 'Proprietary' },
      },
      servers: [{ url: '/', description: 'this instance' }],
      tags: [
        { name: 'orders', description: "A buyer's own orders" },
        { name: 'payments', description: 'Starting payments and provider callbacks' },
        { name: 'refunds', description: 'Refund requests' },
        {
          name: 'after-sales',
          description: 'After-sales: money back for some units of a delivered order, reviewed by the merchant',
        },
        { name: 'admin', description: 'Operations on any order, one permission each (role admin has all)' },
        { name: 'flash-sales', description: 'Flash sales: admission in Redis, orders created in batches' },
        { name: 'sandbox', description: 'The sandbox payer (only when payment.sandbox.enabled)' },
      ],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) => {
      const doc = (documentObject as { openapiObject: unknown }).openapiObject as {
        components: { schemas?: Record<string, unknown> };
        paths?: Record<string, Record<string, Record<string, unknown>>>;
      };
      doc.components.schemas = { ...doc.components.schemas, PaymentNotification: notificationJsonSchema() };
      const webhook = doc.paths?.[WEBHOOK_PATH]?.post;
      if (webhook) {
        webhook.requestBody = {
          required: true,
          content: {
            'application/json': {
              schema: { $ref: '#/components/schemas/PaymentNotification' },
              example: {
                type: 'payment.succeeded',
                paymentId: '2001',
                orderId: '3001',
                providerTxnId: 'T20261128000001',
                amount: 16600,
                currency: 'CNY',
                occurredAt: '2026-11-28T03:00:00Z',
              },
            },
          },
        };
      }
      return doc;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
