import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { signDevToken } from '../internal/auth/index.js';
import { ConfigError } from '../internal/config/index.js';
import { createOrder } from '../internal/order/index.js';
import { createServiceContext, type ServiceContext } from '../internal/svc/index.js';
import { buildApp } from '../restful/app.js';
import { testConfig } from './helpers/config.js';
import { testLogger } from './helpers/logger.js';
import { address, makeSkus } from './helpers/orders.js';

// Admin routes, one permission each: granted by the role admin, a role named after the permission, or a
// role granted it in auth.rolePermissions (here in its environment form).
describe('admin permissions (real MariaDB, Redis, RocketMQ)', () => {
  let ctx: ServiceContext;
  let app: FastifyInstance;
  let orderId: bigint;
  let buyer: bigint;
  before(async () => {
    const config = testConfig({
      QIANFAN_AUTH__ROLE_PERMISSIONS: 'support=orders:read; finance=orders:read,orders:refund',
    });
    ctx = await createServiceContext(config, { process: 'restful', mq: true, logger: testLogger });
    app = await buildApp(ctx);
    const [sku] = await makeSkus(ctx, [{ price: 700, available: 10 }]);
    buyer = BigInt(Date.now()) * 1000n + 900_500n;
    orderId = (await createOrder(ctx, { userId: buyer, items: [{ skuId: sku!, quantity: 1 }], address })).order.id;
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const as = async (roles: string[], method: 'GET' | 'POST', url: string, body: object = {}) => {
    const token = await signDevToken(ctx.config.auth, { userId: '424242', roles }, 600);
    const res = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}) },
      ...(method === 'POST' ? { payload: body } : {}),
    });
    return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Record<string, any> };
  };
  const forbidden = (r: { status: number; body: Record<string, any> }, permission: string) => {
    assert.equal(r.status, 403, JSON.stringify(r.body));
    assert.equal(r.body.code, 'FORBIDDEN');
    assert.equal(r.body.details.permission, permission);
    assert.match(r.body.message, new RegExp(`needs the permission ${permission}`));
  };

  it('a support role reads orders and nothing more; a buyer reads no admin route', async () => {
    assert.equal((await as(['support'], 'GET', `/v1/admin/orders/${orderId}`)).status, 200);
    assert.equal((await as(['support'], 'GET', '/v1/admin/orders?limit=1')).status, 200);
    forbidden(await as(['support'], 'POST', `/v1/admin/orders/${orderId}/cancel`), 'orders:write');
    forbidden(await as(['support'], 'POST', `/v1/admin/orders/${orderId}/refunds`), 'orders:refund');
    forbidden(await as(['support'], 'GET', '/v1/admin/flash-sales/1'), 'flashsales:read');
    forbidden(await as(['user'], 'GET', `/v1/admin/orders/${orderId}`), 'orders:read');
  });

  it('finance may refund (the order then answers for its state), a role named orders:write may cancel, admin may all', async () => {
    const refund = await as(['finance'], 'POST', `/v1/admin/orders/${orderId}/refunds`);
    assert.equal(refund.status, 409, JSON.stringify(refund.body)); // past the permission: an unpaid order
    assert.equal(refund.body.details.currentStatus, 'PENDING_PAYMENT');
    const ship = { carrier: 'SF', trackingNo: 'SF1234567890' };
    forbidden(await as(['finance'], 'POST', `/v1/admin/orders/${orderId}/ship`, ship), 'orders:write');
    const cancel = await as(['orders:write'], 'POST', `/v1/admin/orders/${orderId}/cancel`);
    assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
    assert.equal(cancel.body.status, 'CANCELLED');
    assert.equal((await as(['admin'], 'GET', `/v1/admin/orders/${orderId}`)).body.status, 'CANCELLED');
    assert.equal((await as(['admin'], 'GET', '/v1/admin/flash-sales/1')).status, 404);
  });

  it('internal notes: orders:write adds (author and time kept), orders:read lists, the buyer never sees them', async () => {
    const note = await as(['orders:write'], 'POST', `/v1/admin/orders/${orderId}/notes`, { body: '  buyer called  ' });
    assert.equal(note.status, 201, JSON.stringify(note.body));
    assert.equal(note.body.body, 'buyer called');
    assert.equal(note.body.authorId, '424242');
    forbidden(await as(['support'], 'POST', `/v1/admin/orders/${orderId}/notes`, { body: 'x' }), 'orders:write');
    assert.equal((await as(['orders:write'], 'POST', `/v1/admin/orders/${orderId}/notes`, { body: '' })).status, 400);
    assert.equal(
      (await as(['orders:write'], 'POST', `/v1/admin/orders/${orderId}/notes`, { body: '   ' })).status,
      400,
    );
    const missing = await as(['orders:write'], 'POST', '/v1/admin/orders/123/notes', { body: 'x' });
    assert.equal(missing.status, 404);
    await as(['orders:write'], 'POST', `/v1/admin/orders/${orderId}/notes`, { body: 'second' });
    const list = await as(['support'], 'GET', `/v1/admin/orders/${orderId}/notes`);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.notes.map((n: { body: string }) => n.body),
      ['buyer called', 'second'],
    );
    assert.equal((await as(['support'], 'GET', '/v1/admin/orders/123/notes')).status, 404);
    // Staff's read of the order carries the notes; the buyer's never does.
    const staffView = await as(['support'], 'GET', `/v1/admin/orders/${orderId}`);
    assert.deepEqual(
      staffView.body.notes.map((n: { body: string }) => n.body),
      ['buyer called', 'second'],
    );
    const token = await signDevToken(ctx.config.auth, { userId: String(buyer), roles: ['user'] }, 600);
    const buyerView = await app.inject({
      method: 'GET',
      url: `/v1/orders/${orderId}`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(buyerView.statusCode, 200);
    assert.equal(buyerView.body.includes('buyer called'), false, "the buyer's order carries no notes");
    assert.equal(buyerView.json().notes, undefined);
  });

  it('config refuses a permission that does not exist, naming the ones that do', () => {
    assert.throws(
      () => testConfig({ QIANFAN_AUTH__ROLE_PERMISSIONS: 'support=orders:delete' }),
      (e: unknown) => e instanceof ConfigError && /orders:read, orders:write/.test(e.message),
    );
  });
});
