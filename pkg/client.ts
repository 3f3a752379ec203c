import { ChannelCredentials, connectivityState, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { Etcd3, type Watcher } from 'etcd3';
import { type InstanceStats, P2cBalancer } from './balancer.js';
import * as pb from './gen/qianfan/order/v1/order.js';
import { OrderServiceClient } from './gen/qianfan/order/v1/order.js';

export const ORDER_SERVICE = 'qianfan.order.v1.OrderService';
/** Pause before asking again for a request whose id a failed instance may still hold. */
const FAILOVER_PAUSE_MS = 100;

export interface OrderClientOptions {
  /** etcd endpoints, e.g. ['http://127.0.0.1:2379']. */
  etcdHosts: string[];
  /** Registry prefix the service registers under (its etcd.prefix). */
  prefix?: string;
  /** This caller's token (the service lists it in grpc.serviceTokens as `<caller>:<token>`). */
  serviceToken: string;
  /** Per-call deadline (default 5 s). */
  deadlineMs?: number;
  /** TLS to the service (PEM contents); without it (and without `credentials`) calls are plaintext. */
  tls?: OrderClientTls;
  /** Channel credentials built by the caller (takes precedence over `tls`). */
  credentials?: ChannelCredentials;
}

export interface OrderClientTls {
  /** The CA that signed the service's certificate (default: the system's roots). */
  ca?: string | Buffer;
  /** This client's certificate and key, for a service that requires client certificates (mTLS). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /**
   * The name the service's certificate is checked against. Instances register as `ip:port` in etcd, so
   * set this to the name in the certificate (e.g. `qianfan-order-service`) unless it lists their IPs.
   */
  serverName?: string;
}

const pem = (v: string | Buffer | undefined) => (v === undefined ? null : Buffer.from(v));

/** A failed call's status as an OrderServiceError (the service's code from the `error-code` trailer). */
function serviceErrorOf(e: ServiceError): OrderServiceError {
  const code = (e.metadata?.get('error-code')[0] as string | undefined) ?? status[e.code] ?? 'UNKNOWN';
  const detailsRaw = e.metadata?.get('error-details')[0] as string | undefined;
  return new OrderServiceError(code, e.details ?? e.message, e.code, detailsRaw ? JSON.parse(detailsRaw) : undefined);
}

/** A failed call: `code` is the service's string error code (ORDER_NOT_FOUND, ...), `grpcCode` the status. */
export class OrderServiceError extends Error {
  override name = 'OrderServiceError';
  constructor(
    readonly code: string,
    message: string,
    readonly grpcCode: status,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

type Unary<Req, Res> = (
  req: Req,
  md: Metadata,
  opts: { deadline: number },
  cb: (err: ServiceError | null, res: Res) => void,
) => unknown;

/**
 * Typed client of qianfan.order.v1.OrderService that finds instances in etcd, follows them as they come
 * and go, spreads calls with go-zero's p2c/EWMA balancer (pkg/balancer.ts) and retries once on another
 * instance when one is unavailable, within the same deadline (safe: mutations carry request_id, which
 * makes them idempotent).
 */
export class OrderClient {
  readonly #opts: Required<Omit<OrderClientOptions, 'credentials' | 'tls'>> & { credentials: ChannelCredentials };
  readonly #channelOptions: Record<string, string> = {};
  readonly #etcd: Etcd3;
  readonly #clients = new Map<string, OrderServiceClient>();
  /** etcd key -> address of every listed instance. */
  readonly #keys = new Map<string, string>();
  #watcher: Watcher | undefined;
  readonly #balancer = new P2cBalancer();

  private constructor(opts: OrderClientOptions) {
    const { tls, credentials, ...rest } = opts;
    this.#opts = {
      prefix: '/qianfan/services/',
      deadlineMs: 5000,
      ...rest,
      credentials:
        credentials ??
        (tls
          ? ChannelCredentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert))
          : ChannelCredentials.createInsecure()),
    };
    if (tls?.serverName) this.#channelOptions['grpc.ssl_target_name_override'] = tls.serverName;
    this.#etcd = new Etcd3({ hosts: opts.etcdHosts });
  }

  static async connect(opts: OrderClientOptions): Promise<OrderClient> {
    const c = new OrderClient(opts);
    await c.#discover();
    return c;
  }

  /** Addresses currently known. */
  instances(): string[] {
    return [...this.#clients.keys()].sort();
  }

  /** Per instance: calls sent, in flight, latency and success EWMAs (what the balancer decides on). */
  stats(): InstanceStats[] {
    return this.#balancer.stats();
  }

  async #discover() {
    const dir = `${this.#opts.prefix}${ORDER_SERVICE}/`;
    this.#watcher = await this.#etcd.watch().prefix(dir).create();
    this.#watcher.on('put', (kv) => this.#add(kv.key.toString(), kv.value.toString()));
    this.#watcher.on('delete', (kv) => this.#remove(kv.key.toString()));
    for (const [key, value] of Object.entries(await this.#etcd.getAll().prefix(dir).strings())) this.#add(key, value);
  }

  /** `<service key>/<lease id>` -> "host:port" (go-zero's layout); a JSON value is a release 0.1 server. */
  #add(key: string, value: string) {
    const address = value.startsWith('{') ? (JSON.parse(value) as { address?: string }).address : value.trim();
    if (!address) return;
    this.#keys.set(key, address);
    if (!this.#clients.has(address))
      this.#clients.set(address, new OrderServiceClient(address, this.#opts.credentials, this.#channelOptions));
    this.#balancer.update(this.instances());
  }

  #remove(key: string) {
    const address = this.#keys.get(key);
    this.#keys.delete(key);
    // The same instance may be listed twice for a moment (a new lease before the old key expired).
    if (address === undefined || [...this.#keys.values()].includes(address)) return;
    this.#clients.get(address)?.close();
    this.#clients.delete(address);
    this.#balancer.update(this.instances());
  }

  /** False while the channel to `address` is failing to connect (refused, reset): left out while others connect. */
  #connectable = (address: string) =>
    this.#clients.get(address)?.getChannel().getConnectivityState(false) !== connectivityState.TRANSIENT_FAILURE;

  async #call<Req, Res>(
    method: keyof OrderServiceClient,
    req: Req,
    deadline = Date.now() + this.#opts.deadlineMs,
    failed?: string,
  ): Promise<Res> {
    const picked = this.#balancer.pick({ except: failed, connectable: this.#connectable });
    const client = picked && this.#clients.get(picked.address);
    if (!picked || !client) {
      throw new OrderServiceError(
        'NO_INSTANCES',
        `no ${ORDER_SERVICE} instance is registered in etcd`,
        status.UNAVAILABLE,
      );
    }
    const md = new Metadata();
    md.set('x-service-token', this.#opts.serviceToken);
    try {
      const res = await new Promise<Res>((resolve, reject) =>
        (client[method] as unknown as Unary<Req, Res>).call(client, req, md, { deadline }, (err, res) =>
          err ? reject(err) : resolve(res),
        ),
      );
      picked.done(status.OK);
      return res;
    } catch (err) {
      const e = err as ServiceError;
      picked.done(e.code);
      // One retry, on another instance, for an instance that could not take the call (refused, gone,
      // shutting down). A call that ran out of time is not retried: its deadline is spent.
      if (e.code === status.UNAVAILABLE && failed === undefined && this.#clients.size > 1 && Date.now() < deadline)
        return this.#call(method, req, deadline, picked.address);
      const code = (e.metadata?.get('error-code')[0] as string | undefined) ?? status[e.code] ?? 'UNKNOWN';
      // After a failover, the instance that could not answer may still hold the request's id (it claimed
      // it and died): the service takes such a claim over once that process is gone, so ask again while
      // the deadline allows. A process on another host is known gone only after the claim goes stale.
      if (code === 'IDEMPOTENCY_KEY_IN_FLIGHT' && failed !== undefined && Date.now() + FAILOVER_PAUSE_MS < deadline) {
        await new Promise((r) => setTimeout(r, FAILOVER_PAUSE_MS));
        return this.#call(method, req, deadline, failed);
      }
      throw serviceErrorOf(e);
    }
  }

  /**
   * The order's versions as they are committed, oldest first: without `afterVersion` the current one
   * first, with it every version after it (-1: the whole history, from the creation). The stream survives the instance it is on: when that instance shuts down, dies or goes silent
   * for `idleMs` (default 45 s, three server heartbeats), it resumes on another one after the last version
   * received, so no version is missed or repeated. Ends when `signal` aborts; throws OrderServiceError for
   * an answer that watching again would not change (NOT_FOUND, INVALID_ARGUMENT, TOO_MANY_STREAMS, ...).
   */
  async *watchOrder(
    req: { orderId: string; userId?: string; afterVersion?: number },
    opts: { signal?: AbortSignal; idleMs?: number } = {},
  ): AsyncGenerator<pb.WatchOrderResponse> {
    let after = req.afterVersion;
    let failed: string | undefined;
    const idleMs = opts.idleMs ?? 45_000;
    let lonelySince: number | undefined;
    while (!opts.signal?.aborted) {
      const picked = this.#balancer.pick({ except: failed, connectable: this.#connectable });
      const client = picked && this.#clients.get(picked.address);
      if (!picked || !client) {
        // Between the last instance leaving etcd and the next one registering (a restart): wait a while.
        lonelySince ??= Date.now();
        if (Date.now() - lonelySince > idleMs) {
          throw new OrderServiceError(
            'NO_INSTANCES',
            `no ${ORDER_SERVICE} instance is registered in etcd`,
            status.UNAVAILABLE,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      lonelySince = undefined;
      const md = new Metadata();
      md.set('x-service-token', this.#opts.serviceToken);
      let code: status = status.OK;
      const call = client.watchOrder(pb.WatchOrderRequest.fromPartial({ ...req, afterVersion: after }), md);
      let idle = false;
      let timer = setTimeout(() => {}, 0);
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          idle = true;
          call.cancel();
        }, idleMs);
      };
      const abort = () => call.cancel();
      opts.signal?.addEventListener('abort', abort, { once: true });
      arm();
      try {
        for await (const msg of call as AsyncIterable<pb.WatchOrderResponse>) {
          arm();
          if (msg.heartbeat || (after !== undefined && msg.version <= after)) continue;
          after = msg.version;
          yield msg;
        }
        failed = picked.address; // the server ended the stream: watch on another instance
      } catch (err) {
        const e = err as ServiceError;
        code = e.code;
        if (opts.signal?.aborted) return;
        const again = idle || e.code === status.UNAVAILABLE || e.code === status.CANCELLED;
        if (!again) throw serviceErrorOf(e);
        failed = picked.address;
        await new Promise((r) => setTimeout(r, FAILOVER_PAUSE_MS));
      } finally {
        picked.done(code);
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', abort);
        call.cancel();
      }
    }
  }

  // Requests take partial messages: a field left out (or undefined, from JavaScript) is its proto3 default,
  // which the service reads as absent. fromPartial fills the defaults before encoding.
  createOrder = (req: pb.DeepPartial<pb.CreateOrderRequest>) =>
    this.#call<pb.CreateOrderRequest, pb.CreateOrderResponse>('createOrder', pb.CreateOrderRequest.fromPartial(req));
  getOrder = (req: pb.DeepPartial<pb.GetOrderRequest>) =>
    this.#call<pb.GetOrderRequest, pb.GetOrderResponse>('getOrder', pb.GetOrderRequest.fromPartial(req));
  listOrders = (req: pb.DeepPartial<pb.ListOrdersRequest>) =>
    this.#call<pb.ListOrdersRequest, pb.ListOrdersResponse>('listOrders', pb.ListOrdersRequest.fromPartial(req));
  cancelOrder = (req: pb.DeepPartial<pb.CancelOrderRequest>) =>
    this.#call<pb.CancelOrderRequest, pb.CancelOrderResponse>('cancelOrder', pb.CancelOrderRequest.fromPartial(req));
  startPayment = (req: pb.DeepPartial<pb.StartPaymentRequest>) =>
    this.#call<pb.StartPaymentRequest, pb.StartPaymentResponse>(
      'startPayment',
      pb.StartPaymentRequest.fromPartial(req),
    );
  applyPaymentResult = (req: pb.DeepPartial<pb.ApplyPaymentResultRequest>) =>
    this.#call<pb.ApplyPaymentResultRequest, pb.ApplyPaymentResultResponse>(
      'applyPaymentResult',
      pb.ApplyPaymentResultRequest.fromPartial(req),
    );
  shipOrder = (req: pb.DeepPartial<pb.ShipOrderRequest>) =>
    this.#call<pb.ShipOrderRequest, pb.ShipOrderResponse>('shipOrder', pb.ShipOrderRequest.fromPartial(req));
  reportParcelLost = (req: pb.DeepPartial<pb.ReportParcelLostRequest>) =>
    this.#call<pb.ReportParcelLostRequest, pb.ReportParcelLostResponse>(
      'reportParcelLost',
      pb.ReportParcelLostRequest.fromPartial(req),
    );
  markDelivered = (req: pb.DeepPartial<pb.MarkDeliveredRequest>) =>
    this.#call<pb.MarkDeliveredRequest, pb.MarkDeliveredResponse>(
      'markDelivered',
      pb.MarkDeliveredRequest.fromPartial(req),
    );
  confirmReceipt = (req: pb.DeepPartial<pb.ConfirmReceiptRequest>) =>
    this.#call<pb.ConfirmReceiptRequest, pb.ConfirmReceiptResponse>(
      'confirmReceipt',
      pb.ConfirmReceiptRequest.fromPartial(req),
    );
  requestRefund = (req: pb.DeepPartial<pb.RequestRefundRequest>) =>
    this.#call<pb.RequestRefundRequest, pb.RequestRefundResponse>(
      'requestRefund',
      pb.RequestRefundRequest.fromPartial(req),
    );
  requestAfterSale = (req: pb.DeepPartial<pb.RequestAfterSaleRequest>) =>
    this.#call<pb.RequestAfterSaleRequest, pb.RequestAfterSaleResponse>(
      'requestAfterSale',
      pb.RequestAfterSaleRequest.fromPartial(req),
    );
  getAfterSale = (req: pb.DeepPartial<pb.GetAfterSaleRequest>) =>
    this.#call<pb.GetAfterSaleRequest, pb.GetAfterSaleResponse>(
      'getAfterSale',
      pb.GetAfterSaleRequest.fromPartial(req),
    );
  listOrderAfterSales = (req: pb.DeepPartial<pb.ListOrderAfterSalesRequest>) =>
    this.#call<pb.ListOrderAfterSalesRequest, pb.ListOrderAfterSalesResponse>(
      'listOrderAfterSales',
      pb.ListOrderAfterSalesRequest.fromPartial(req),
    );
  withdrawAfterSale = (req: pb.DeepPartial<pb.WithdrawAfterSaleRequest>) =>
    this.#call<pb.WithdrawAfterSaleRequest, pb.WithdrawAfterSaleResponse>(
      'withdrawAfterSale',
      pb.WithdrawAfterSaleRequest.fromPartial(req),
    );
  reviewAfterSale = (req: pb.DeepPartial<pb.ReviewAfterSaleRequest>) =>
    this.#call<pb.ReviewAfterSaleRequest, pb.ReviewAfterSaleResponse>(
      'reviewAfterSale',
      pb.ReviewAfterSaleRequest.fromPartial(req),
    );
  receiveAfterSaleReturn = (req: pb.DeepPartial<pb.ReceiveAfterSaleReturnRequest>) =>
    this.#call<pb.ReceiveAfterSaleReturnRequest, pb.ReceiveAfterSaleReturnResponse>(
      'receiveAfterSaleReturn',
      pb.ReceiveAfterSaleReturnRequest.fromPartial(req),
    );

  async close(): Promise<void> {
    await this.#watcher?.cancel();
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
    this.#keys.clear();
    this.#etcd.close();
  }
}
