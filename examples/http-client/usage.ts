// A typed HTTP client from the served API document, with no hand-written types:
//   npx openapi-typescript http://127.0.0.1:8888/openapi.json -o schema.d.ts
// test/contracts.test.ts generates schema.d.ts from the document and type-checks this file against it.
import type { components, operations, paths } from './schema.js';

export type Order = components['schemas']['Order'];
export type OrderStatus = components['schemas']['OrderStatus'];
export type ApiError = components['schemas']['Error'];
type CreateOrderBody = NonNullable<operations['createOrder']['requestBody']>['content']['application/json'];
type OrderPage = paths['/v1/orders']['get']['responses'][200]['content']['application/json'];

export class OrderApi {
  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  async #send<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) {
      const err = (await res.json()) as ApiError;
      throw new Error(`${err.code}: ${err.message} (request ${err.requestId})`);
    }
    return (await res.json()) as T;
  }

  createOrder(body: CreateOrderBody, idempotencyKey: string): Promise<Order> {
    return this.#send('POST', '/v1/orders', body, { 'idempotency-key': idempotencyKey });
  }

  getOrder(id: string): Promise<Order> {
    return this.#send('GET', `/v1/orders/${id}`);
  }

  listOrders(status?: OrderStatus, cursor?: string): Promise<OrderPage> {
    const q = new URLSearchParams({ ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
    return this.#send('GET', `/v1/orders?${q}`);
  }
}

export async function example(api: OrderApi): Promise<number> {
  const order = await api.createOrder(
    {
      items: [{ skuId: '10001', quantity: 2 }],
      address: {
        name: 'Li Lei',
        phone: '13800000000',
        province: 'Zhejiang',
        city: 'Hangzhou',
        district: 'Xihu',
        detail: '1 Longjing Rd',
      },
    },
    crypto.randomUUID(),
  );
  const paid: OrderStatus = 'PAID';
  // @ts-expect-error: not a state of the order state machine
  const unknown: OrderStatus = 'SHIPPING';
  const page = await api.listOrders(paid);
  const sum = order.items.reduce((n, i) => n + i.lineTotal, 0);
  return sum + page.orders.length + String(unknown).length;
}
