import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { OrderServiceClient } from '../../pkg/gen/qianfan/order/v1/order.js';
import { buildServer } from '../../service/server.js';

/**
 * The gRPC server on a free port of this process, and a caller of its methods with the context's first
 * service token: `call('getOrder', req)` answers `{res}` or `{err}`. `close()` stops both.
 */
export async function inProcessRpc(ctx: ServiceContext) {
  const rpc = buildServer(ctx);
  const client = new OrderServiceClient(`127.0.0.1:${await rpc.listen('127.0.0.1', 0)}`, credentials.createInsecure());
  const md = new Metadata();
  md.set('x-service-token', ctx.config.grpc.serviceTokens[0]!.token);
  const call = <Res = any>(method: string, req: unknown) =>
    new Promise<{ res?: Res; err?: ServiceError }>((resolve) =>
      (client as any)[method](req, md, (err: ServiceError | null, res: Res) => resolve(err ? { err } : { res })),
    );
  const close = async () => {
    client.close();
    await rpc.shutdown(1000);
  };
  return { call, close };
}
