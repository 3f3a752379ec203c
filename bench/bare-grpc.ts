// The ceiling for gRPC benchmarks: a bare grpc-js server answering GetOrder with a fixed Order (the same
// message size as a real one), no auth, no I/O. argv: <port> <order as JSON>
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { type Order, type OrderServiceServer, OrderServiceService } from '../pkg/gen/qianfan/order/v1/order.js';

const [port, json] = process.argv.slice(2);
const order = JSON.parse(json ?? '{}') as Order;
const server = new Server();
server.addService(OrderServiceService, {
  getOrder: (_call, callback) => callback(null, { order }),
} as Partial<OrderServiceServer> as OrderServiceServer);
server.bindAsync(`127.0.0.1:${port ?? 29999}`, ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
});
