// Calling qianfan-order from another Node.js service with `qianfan-order/pkg` (docs/client.md).
// Compiled against pkg/ in the tests (examples/tsconfig.json), so it stays true to the client.
import { randomUUID } from 'node:crypto';
import {
  type Envelope,
  ORDER_EVENT_TYPES,
  OrderClient,
  type OrderEventData,
  OrderServiceError,
  OrderStatusEnum,
  parseOrderEvent,
} from 'qianfan-order/pkg';

export async function main(): Promise<void> {
  // Instances are found in etcd under <prefix>qianfan.order.v1.OrderService/ and followed as they come and go.
  const orders = await OrderClient.connect({
    etcdHosts: (process.env.ETCD_HOSTS ?? 'http://127.0.0.1:2379').split(','),
    prefix: '/qianfan/services/',
    serviceToken: process.env.ORDER_SERVICE_TOKEN ?? 'dev-service-token',
    deadlineMs: 3000,
  });
  try {
    const { order } = await orders.createOrder({
      requestId: randomUUID(), // retrying with the same id never creates a second order
      userId: '1001',
      items: [{ skuId: '10001', quantity: 2 }],
      address: {
        name: 'Li Lei',
        phone: '13800000000',
        province: 'Zhejiang',
        city: 'Hangzhou',
        district: 'Xihu',
        detail: '1 Longjing Rd',
        postcode: '',
      },
      note: '',
    });
    if (order?.status === OrderStatusEnum.PENDING_PAYMENT) {
      console.log(`order ${order.id}: pay ${order.totalAmount} fen before ${order.payDeadline}`);
    }
    const page = await orders.listOrders({
      userId: '1001',
      status: OrderStatusEnum.PAID,
      legacyStatus: '',
      cursor: '',
      limit: 10,
    });
    console.log(`${page.orders.length} paid orders`);
  } catch (err) {
    if (err instanceof OrderServiceError && err.code === 'INSUFFICIENT_STOCK') {
      console.log('out of stock:', err.details);
    } else {
      throw err;
    }
  } finally {
    await orders.close();
  }
}

/** A consumer of the order_event topic: dedupe by eventId, ignore versions older than the last seen. */
export function onOrderEvent(body: string, lastVersion: Map<string, number>): void {
  const event: Envelope<OrderEventData> = parseOrderEvent(body);
  const seen = lastVersion.get(event.data.orderId) ?? -1;
  if (event.data.version <= seen) return;
  lastVersion.set(event.data.orderId, event.data.version);
  if (event.type === ORDER_EVENT_TYPES.paid) console.log(`order ${event.data.orderId} paid`);
}
