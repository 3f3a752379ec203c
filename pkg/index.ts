export { ORDER_SERVICE, OrderClient, type OrderClientOptions, OrderServiceError } from './client.js';
export * from './events/index.js';
export type * from './gen/qianfan/order/v1/order.js';
