import { type Static, type TSchema, Type } from '@sinclair/typebox';

/**
 * Named schemas: each has an `$id`, is registered once on the app (`sharedSchemas`) and referenced with
 * `ref()`, so /openapi.json lists it under components.schemas and generated clients get named types.
 */
export function ref<T extends TSchema>(schema: T): T {
  if (!schema.$id) throw new Error('ref() needs a schema with an $id');
  // Typed as the schema it points to, so route handlers see the referenced shape.
  return Type.Ref(schema.$id) as unknown as T;
}

export const Id = Type.String({ pattern: '^[1-9]\\d{0,19}$', description: '64-bit id as a decimal string' });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'Stable error code, e.g. ORDER_NOT_FOUND (docs/api.md lists them)' }),
    message: Type.String({ description: 'What went wrong and what to do next, for humans' }),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    requestId: Type.String({ description: 'The x-request-id of the request' }),
  },
  { $id: 'Error' },
);

export const Address = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 50 }),
    phone: Type.String({ pattern: '^\\+?[0-9 -]{5,20}$' }),
    province: Type.String({ minLength: 1, maxLength: 50 }),
    city: Type.String({ minLength: 1, maxLength: 50 }),
    district: Type.String({ minLength: 1, maxLength: 50 }),
    detail: Type.String({ minLength: 1, maxLength: 200 }),
    postcode: Type.Optional(Type.String({ pattern: '^\\d{6}$' })),
  },
  { $id: 'Address', additionalProperties: false },
);

export const OrderStatus = Type.Union(
  [
    Type.Literal('PENDING_PAYMENT'),
    Type.Literal('PAID'),
    Type.Literal('PARTIALLY_SHIPPED'),
    Type.Literal('SHIPPED'),
    Type.Literal('DELIVERED'),
    Type.Literal('COMPLETED'),
    Type.Literal('CANCELLED'),
    Type.Literal('REFUNDING'),
    Type.Literal('REFUNDED'),
    Type.Literal('REFUND_FAILED'),
  ],
  { $id: 'OrderStatus', description: 'The order state machine (docs/api.md shows its transitions)' },
);

export const CreateOrderBody = Type.Object(
  {
    items: Type.Array(
      Type.Object({ skuId: Id, quantity: Type.Integer({ minimum: 1, maximum: 999 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 50 },
    ),
    address: ref(Address),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  {
    $id: 'CreateOrderRequest',
    additionalProperties: false,
    examples: [
      {
        items: [
          { skuId: '1001', quantity: 2 },
          { skuId: '1002', quantity: 1 },
        ],
        address: {
          name: 'Li Lei',
          phone: '13800000000',
          province: 'Zhejiang',
          city: 'Hangzhou',
          district: 'Xihu',
          detail: '1 Wensan Road',
          postcode: '310000',
        },
        note: 'leave at the door',
      },
    ],
  },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const OrderItem = Type.Object(
  {
    id: Type.Optional(Id),
    skuId: Id,
    title: Type.String({ description: "The SKU's title when the order was created" }),
    unitPrice: Type.Integer({ description: 'fen, the price when the order was created' }),
    quantity: Type.Integer(),
    lineTotal: Type.Integer({ description: 'fen: unitPrice × quantity' }),
  },
  {
    $id: 'OrderItem',
    description: 'An order line; `id` names it in after-sale requests and parcels (`orderItemId`)',
  },
);

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const OrderNote = Type.Object(
  {
    id: Id,
    orderId: Id,
    authorId: Type.String({ description: "The staff member's user id" }),
    body: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'OrderNote', description: 'An internal note on an order: staff only, append-only' },
);

const money = (description: string) => Type.Integer({ description: `fen: ${description}` });

export const OrderPaymentAttempt = Type.Object(
  {
    id: Id,
    provider: Type.String({ description: 'e.g. wechat, alipay, sandbox' }),
    status: Type.String({ description: 'PENDING, SUCCEEDED, FAILED, EXPIRED (closed unpaid) or REFUNDED' }),
    amount: money('what this attempt asked for'),
    currency: Type.String(),
    kept: Type.Boolean({
      description: 'The one succeeded attempt that paid the order (any other success is refunded)',
    }),
    failureReason: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    paidAt: Time,
  },
  { $id: 'OrderPaymentAttempt', description: 'One payment attempt of an order' },
);

export const OrderRefund = Type.Object(
  {
    id: Id,
    paymentId: Id,
    kind: Type.String({
      description:
        'CANCEL_AFTER_PAYMENT, AFTER_SALE (the whole order after delivery), AFTER_SALE_LINES (an after-sale), AUTO_UNKEPT_PAYMENT',
    }),
    status: Type.String({ description: 'PENDING, SUCCEEDED or FAILED' }),
    amount: money('the amount going back'),
    reason: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
    refundedAt: Time,
  },
  { $id: 'OrderRefund', description: 'A refund of (part of) a payment' },
);

export const OrderShipment = Type.Object(
  {
    id: Id,
    carrier: Type.String(),
    trackingNo: Type.String(),
    status: Type.String({ description: 'SHIPPED, DELIVERED or LOST' }),
    shippedAt: Type.String({ format: 'date-time' }),
    deliveredAt: Time,
    items: Type.Optional(
      Type.Array(Type.Object({ orderItemId: Id, quantity: Type.Integer() }), {
        description: 'The units of each order line the parcel carries',
      }),
    ),
  },
  { $id: 'OrderShipment', description: 'A parcel of the order' },
);

export const OrderTimelineEntry = Type.Object(
  {
    version: Type.Integer({ description: 'The order version this change made' }),
    at: Type.String({ format: 'date-time' }),
    from: Type.String({ description: "The status before; '' when the order was created" }),
    to: Type.String({ description: 'The status after (the same for an address change or price adjustment)' }),
    actorType: Type.String({ description: 'USER, ADMIN, SYSTEM or PROVIDER' }),
    actorId: Type.String({ description: "Who; '' for staff in the buyer's view" }),
    reason: Type.String(),
  },
  { $id: 'OrderTimelineEntry', description: "One line of the order's status history" },
);

export const OrderAfterSale = Type.Object(
  {
    id: Id,
    kind: Type.String({ description: 'REFUND_ONLY or RETURN_AND_REFUND' }),
    status: Type.String({ description: 'The after-sale state (schema AfterSaleStatus)' }),
    goods: Type.Optional(
      Type.String({
        description: 'Where the goods are: DELIVERED (with the buyer), UNSHIPPED (never left) or LOST (a lost parcel)',
      }),
    ),
    shipmentId: Type.Optional(Type.Union([Id, Type.Null()], { description: 'The lost parcel this refunds' })),
    reason: Type.String(),
    lines: Type.Array(Type.Object({ orderItemId: Id, quantity: Type.Integer(), amount: Type.Integer() })),
    itemsAmount: Type.Integer(),
    shippingAmount: Type.Integer(),
    total: Type.Integer({ description: 'fen: what the after-sale refunds' }),
    refundId: Type.Union([Id, Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'OrderAfterSale', description: 'An after-sale of the order (GET /v1/after-sales/{id} has its history)' },
);

export const Order = Type.Object(
  {
    id: Id,
    orderNo: Type.String(),
    userId: Id,
    status: ref(OrderStatus),
    currency: Type.String({ description: 'ISO 4217, e.g. CNY' }),
    itemsAmount: Type.Integer(),
    shippingFee: Type.Integer(),
    discountAmount: Type.Integer(),
    totalAmount: Type.Integer({ description: 'fen' }),
    paidAmount: Type.Integer(),
    refundedAmount: Type.Integer(),
    address: ref(Address),
    note: Type.String(),
    source: Type.String({ description: 'Where the order came from: APP, WEB, RPC (another service) or FLASHSALE' }),
    version: Type.Integer({ description: 'Increases with every state change' }),
    payDeadline: Type.String({ format: 'date-time' }),
    paidAt: Time,
    shippedAt: Time,
    deliveredAt: Time,
    completedAt: Time,
    cancelledAt: Time,
    cancelReason: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
    items: Type.Array(ref(OrderItem)),
    payments: Type.Optional(Type.Array(ref(OrderPaymentAttempt), { description: 'Oldest first' })),
    refunds: Type.Optional(Type.Array(ref(OrderRefund), { description: 'Oldest first' })),
    shipments: Type.Optional(Type.Array(ref(OrderShipment))),
    timeline: Type.Optional(Type.Array(ref(OrderTimelineEntry), { description: 'Oldest first' })),
    afterSales: Type.Optional(Type.Array(ref(OrderAfterSale), { description: 'Oldest first' })),
    notes: Type.Optional(Type.Array(ref(OrderNote), { description: 'Internal notes: the admin read only' })),
  },
  {
    $id: 'Order',
    description:
      'An order. The reads of one order (GET /v1/orders/{id}, GET /v1/admin/orders/{id}) return the whole order: ' +
      'also its payment attempts, refunds, shipments and timeline (and, for staff, its internal notes). Lists, ' +
      'searches and the answers to changes leave those five out.',
  },
);

export const OrderPage = Type.Object(
  {
    orders: Type.Array(ref(Order)),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as `cursor` for the next page' }),
  },
  { $id: 'OrderPage' },
);

const count = Type.Integer({ minimum: 0 });

export const ListQuery = Type.Object(
  {
    status: Type.Optional(ref(OrderStatus)),
    createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time' })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    /** Query strings are strings: validated as 1-100 here, converted by the route. */
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
    userId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

/** Operators' search (internal/order/search-orders.ts): every filter optional, combined with AND. */
const SearchFilters = {
  orderNo: Type.Optional(
    Type.String({ pattern: '^QF\\d{19}$', description: 'The order number, e.g. QF0384870123456789012' }),
  ),
  userId: Type.Optional(Id),
  phoneLast4: Type.Optional(Type.String({ pattern: '^\\d{4}$', description: "The receiver phone's last four digits" })),
  skuId: Type.Optional(Id),
  status: Type.Optional(ref(OrderStatus)),
  paymentStatus: Type.Optional(
    Type.Union(
      ['PENDING', 'SUCCEEDED', 'FAILED', 'EXPIRED', 'REFUNDED'].map((s) => Type.Literal(s)),
      { description: 'Orders with at least one payment attempt in this status' },
    ),
  ),
  source: Type.Optional(Type.Union(['APP', 'WEB', 'RPC', 'FLASHSALE'].map((s) => Type.Literal(s)))),
  createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
  createdTo: Type.Optional(Type.String({ format: 'date-time' })),
  paidFrom: Type.Optional(Type.String({ format: 'date-time' })),
  paidTo: Type.Optional(Type.String({ format: 'date-time' })),
  amountMin: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'total_amount at least this, in fen' })),
  amountMax: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'total_amount at most this, in fen' })),
};

export const SearchQuery = Type.Object(
  {
    ...SearchFilters,
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
  },
  { additionalProperties: false },
);

export const SummaryQuery = Type.Object(SearchFilters, { additionalProperties: false });

export const ExportQuery = Type.Object(
  {
    ...SearchFilters,
    shape: Type.Optional(
      Type.Union([Type.Literal('orders'), Type.Literal('lines')], {
        description: 'orders (default): one row per order; lines: one row per order line',
      }),
    ),
    phones: Type.Optional(
      Type.Union([Type.Literal('masked'), Type.Literal('full')], {
        description: 'masked (default): 138****5678; full needs the permission orders:unmask',
      }),
    ),
  },
  { additionalProperties: false },
);

const StatusSummary = Type.Object({ count, amount: Type.Integer({ minimum: 0, description: 'fen' }) });
export const SearchSummary = Type.Object(
  {
    byStatus: Type.Record(Type.String(), StatusSummary, { description: 'Per status with at least one order' }),
    count,
    amount: Type.Integer({ minimum: 0, description: 'Sum of total_amount, fen' }),
    complete: Type.Boolean({
      description: 'false: the filter matched more than 100,000 entries of its index; the numbers cover the newest',
    }),
  },
  { $id: 'SearchSummary' },
);

/** The buyer's own list: the admin filters and whether to list hidden orders. */
export const MyListQuery = Type.Object(
  {
    ...ListQuery.properties,
    hidden: Type.Optional(
      Type.Union([Type.Literal('true'), Type.Literal('false')], {
        description: 'true: only the orders the buyer hid; false (default): the others',
      }),
    ),
  },
  { additionalProperties: false },
);

export const OrderCounts = Type.Object(
  {
    byStatus: Type.Object(
      {
        PENDING_PAYMENT: count,
        PAID: count,
        PARTIALLY_SHIPPED: count,
        SHIPPED: count,
        DELIVERED: count,
        COMPLETED: count,
        CANCELLED: count,
        REFUNDING: count,
        REFUNDED: count,
        REFUND_FAILED: count,
      },
      { description: 'Every status, 0 included' },
    ),
    total: count,
  },
  {
    $id: 'OrderCounts',
    description: "The buyer's orders per status, hidden ones left out; exact as soon as a change has committed",
  },
);

export const OrderVisibility = Type.Object(
  { orderId: Id, hidden: Type.Boolean() },
  { $id: 'OrderVisibility', description: "Whether the order shows in its buyer's list and counts" },
);

export const NoteBody = Type.Object(
  { body: Type.String({ minLength: 1, maxLength: 2000 }) },
  { $id: 'OrderNoteRequest', additionalProperties: false, examples: [{ body: 'buyer called: deliver after 18:00' }] },
);

export const OrderNotes = Type.Object({ notes: Type.Array(ref(OrderNote)) }, { $id: 'OrderNotes' });

export const Payment = Type.Object(
  {
    id: Id,
    orderId: Id,
    provider: Type.String(),
    amount: Type.Integer({ description: 'fen' }),
    currency: Type.String(),
    status: Type.Union([
      Type.Literal('PENDING'),
      Type.Literal('SUCCEEDED'),
      Type.Literal('FAILED'),
      Type.Literal('EXPIRED'),
      Type.Literal('REFUNDED'),
    ]),
    payUrl: Type.String({ description: 'Where the buyer completes the payment (empty for JSAPI and app payments)' }),
    client: Type.Record(Type.String(), Type.String(), {
      description:
        'What the client opens the provider with: wechatpay native {codeUrl}, h5 {h5Url}, jsapi {appId, timeStamp, nonceStr, package, signType, paySign}, app {appid, partnerid, prepayid, package, noncestr, timestamp, sign}; alipay page/wap {payUrl}, precreate {qrCode}, app {orderString}; sandbox {payUrl}',
    }),
  },
  { $id: 'Payment' },
);

export const ShipBody = Type.Object(
  {
    carrier: Type.String({ pattern: '^[A-Za-z0-9_-]{2,32}$' }),
    trackingNo: Type.String({ pattern: '^[A-Za-z0-9-]{4,64}$' }),
    lines: Type.Optional(
      Type.Array(
        Type.Object(
          { orderItemId: Id, quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 100, description: 'The units this parcel carries; absent: every unit left to ship' },
      ),
    ),
  },
  {
    $id: 'ShipRequest',
    additionalProperties: false,
    examples: [
      { carrier: 'SF', trackingNo: 'SF1234567890' },
      { carrier: 'SF', trackingNo: 'SF1234567891', lines: [{ orderItemId: '7390000000000000001', quantity: 1 }] },
    ],
  },
);
export const ShipmentParams = Type.Object({ id: Id, shipmentId: Id }, { additionalProperties: false });
export const LostParcelBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 120, description: 'What happened, for the history' }) },
  { $id: 'LostParcelRequest', additionalProperties: false, examples: [{ reason: 'carrier confirmed the loss' }] },
);
const AmendReason = Type.String({ minLength: 1, maxLength: 120, description: 'Why, for the order history' });
export const AddressChangeBody = Type.Object(
  { address: ref(Address), reason: AmendReason },
  {
    $id: 'AddressChangeBody',
    additionalProperties: false,
    examples: [
      {
        address: {
          name: 'Han Meimei',
          phone: '13900000000',
          province: 'Zhejiang',
          city: 'Hangzhou',
          district: 'Xihu',
          detail: '2 Wensan Rd',
        },
        reason: 'buyer called: moved',
      },
    ],
  },
);
const Fen = Type.Integer({ minimum: 0, maximum: 1_000_000_000, description: 'fen' });
export const PriceAdjustBody = Type.Object(
  { shippingFee: Type.Optional(Fen), discountAmount: Type.Optional(Fen), reason: AmendReason },
  {
    $id: 'PriceAdjustBody',
    additionalProperties: false,
    minProperties: 2,
    examples: [{ shippingFee: 800, discountAmount: 300, reason: 'remote area shipping, goodwill discount' }],
  },
);

export const ReasonBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 200 })) },
  { $id: 'RefundRequest', additionalProperties: false, examples: [{ reason: 'arrived damaged' }] },
);
export const StartPaymentBody = Type.Object(
  {
    provider: Type.Optional(
      Type.String({ maxLength: 32, description: 'wechatpay, alipay or sandbox; empty: the first configured' }),
    ),
    method: Type.Optional(
      Type.String({
        pattern: '^[a-z0-9_]{1,16}$',
        description: 'wechatpay: native (default), jsapi, app, h5; alipay: page (default), wap, app, precreate',
      }),
    ),
    openId: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9_-]{1,128}$',
        description: "wechatpay jsapi: the payer's openid under our appId",
      }),
    ),
  },
  {
    $id: 'StartPaymentRequest',
    additionalProperties: false,
    examples: [
      { provider: 'wechatpay', method: 'native' },
      { provider: 'alipay', method: 'page' },
    ],
  },
);

export const AfterSaleStatus = Type.Union(
  [
    Type.Literal('REQUESTED'),
    Type.Literal('APPROVED'),
    Type.Literal('REJECTED'),
    Type.Literal('RETURN_SHIPPED'),
    Type.Literal('RETURN_RECEIVED'),
    Type.Literal('REFUNDING'),
    Type.Literal('REFUNDED'),
    Type.Literal('CLOSED'),
  ],
  { $id: 'AfterSaleStatus', description: 'The after-sale state machine (docs/api.md shows its transitions)' },
);

const AfterSaleKind = Type.Union([Type.Literal('REFUND_ONLY'), Type.Literal('RETURN_AND_REFUND')]);
const AfterSaleLineInput = Type.Object(
  { orderItemId: Id, quantity: Type.Integer({ minimum: 1, maximum: 999 }) },
  { additionalProperties: false },
);

export const AfterSaleRequestBody = Type.Object(
  {
    kind: AfterSaleKind,
    reason: Type.String({ minLength: 1, maxLength: 200 }),
    evidence: Type.Optional(Type.Array(Type.String({ maxLength: 500, pattern: '^https?://\\S+$' }), { maxItems: 9 })),
    lines: Type.Array(AfterSaleLineInput, { minItems: 1, maxItems: 100 }),
  },
  {
    $id: 'AfterSaleRequest',
    additionalProperties: false,
    examples: [
      { kind: 'RETURN_AND_REFUND', reason: 'wrong size', lines: [{ orderItemId: '7390000000000000001', quantity: 1 }] },
    ],
  },
);

const RefundedLine = Type.Object({
  orderItemId: Id,
  quantity: Type.Integer(),
  amount: Type.Integer({ description: 'fen: what these units refund, their share of the discount taken off' }),
});

export const RefundPreview = Type.Object(
  {
    lines: Type.Array(RefundedLine),
    itemsAmount: Type.Integer({ description: 'fen, the lines together' }),
    shippingAmount: Type.Integer({
      description: 'fen: the shipping fee, only when nothing of the order is left unrefunded',
    }),
    total: Type.Integer({ description: 'fen' }),
  },
  { $id: 'RefundPreview' },
);

export const AfterSale = Type.Object(
  {
    id: Id,
    orderId: Id,
    kind: AfterSaleKind,
    status: ref(AfterSaleStatus),
    goods: Type.Optional(
      Type.String({
        description: 'Where the goods are: DELIVERED (with the buyer), UNSHIPPED (never left) or LOST (a lost parcel)',
      }),
    ),
    shipmentId: Type.Optional(Type.Union([Id, Type.Null()], { description: 'The lost parcel this refunds' })),
    reason: Type.String(),
    evidence: Type.Array(Type.String()),
    lines: Type.Array(RefundedLine),
    itemsAmount: Type.Integer(),
    shippingAmount: Type.Integer(),
    total: Type.Integer({ description: 'fen: what the after-sale refunds' }),
    refundId: Type.Union([Id, Type.Null()]),
    returnCarrier: Type.Union([Type.String(), Type.Null()]),
    returnTrackingNo: Type.Union([Type.String(), Type.Null()]),
    reviewNote: Type.String({ description: "the merchant's note on approval or rejection" }),
    version: Type.Integer(),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    history: Type.Optional(
      Type.Array(
        Type.Object({
          at: Type.String({ format: 'date-time' }),
          from: Type.Union([ref(AfterSaleStatus), Type.Null()]),
          to: ref(AfterSaleStatus),
          actor: Type.String({ description: 'USER, ADMIN, SYSTEM or PROVIDER' }),
          reason: Type.String(),
        }),
      ),
    ),
  },
  { $id: 'AfterSale' },
);

export const AfterSaleList = Type.Object(
  {
    items: Type.Array(ref(AfterSale)),
    nextCursor: Type.Union([Type.String(), Type.Null()], { description: 'pass as cursor for the next page' }),
  },
  { $id: 'AfterSaleList' },
);

export const ReviewBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 200 })) },
  { $id: 'AfterSaleReview', additionalProperties: false, examples: [{ note: 'return to the Hangzhou warehouse' }] },
);

export const ReturnShipmentBody = Type.Object(
  {
    carrier: Type.String({ pattern: '^[A-Za-z0-9_-]{1,32}$' }),
    trackingNo: Type.String({ pattern: '^[A-Za-z0-9-]{4,64}$' }),
  },
  { $id: 'ReturnShipment', additionalProperties: false, examples: [{ carrier: 'SF', trackingNo: 'SF1234567890' }] },
);

export const AfterSaleListQuery = Type.Object(
  {
    status: Type.Optional(ref(AfterSaleStatus)),
    cursor: Type.Optional(Id),
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1 to 100 (default 20)' })),
  },
  { additionalProperties: false },
);

export const RefundPreviewQuery = Type.Object(
  {
    lines: Type.String({
      pattern: '^[1-9]\\d{0,19}:[1-9]\\d{0,2}(,[1-9]\\d{0,19}:[1-9]\\d{0,2}){0,99}$',
      description: 'orderItemId:quantity pairs, comma-separated',
    }),
  },
  { additionalProperties: false },
);

/** A response of a named schema, with its description and (documented) response headers. */
export function reply<T extends TSchema>(
  schema: T,
  description: string,
  headers?: Record<string, { type: 'string'; description: string }>,
): T {
  if (!schema.$id) throw new Error('reply() needs a schema with an $id');
  return Type.Ref(schema.$id, { description, ...(headers ? { headers } : {}) }) as unknown as T;
}

export const locationHeader = { location: { type: 'string' as const, description: 'URL of the created resource' } };

export const IdempotencyHeader = Type.Object({
  'idempotency-key': Type.String({
    minLength: 8,
    maxLength: 128,
    description: 'Makes the request safe to retry: the same key replays the first answer (e.g. a UUID)',
  }),
});

const error = (description: string) => Type.Ref('Error', { description }) as unknown as typeof ErrorBody;
export const errorResponses = {
  400: error('Invalid input (VALIDATION_FAILED, ...)'),
  401: error('Missing or invalid credentials'),
  403: error('Not allowed (FORBIDDEN)'),
  404: error('Not found, or not yours'),
  409: error('Conflicts with the current state or an in-flight request with the same Idempotency-Key'),
  422: error('Refused by a business rule'),
  429: error('Rate limited; retry after the Retry-After header'),
  503: error('A dependency is unavailable; retry with the same Idempotency-Key'),
  413: error('Body larger than the limit (PAYLOAD_TOO_LARGE)'),
  415: error('Body not sent as application/json (UNSUPPORTED_MEDIA_TYPE)'),
};

/** Routes without a body (GET): a body is never parsed, so no 413 or 415. */
const { 413: _tooLarge, 415: _mediaType, ...withoutBodyErrors } = errorResponses;
export const readErrorResponses = withoutBodyErrors;

export const CreateFlashSaleBody = Type.Object(
  {
    skuId: Id,
    price: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'fen' }),
    stock: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    perUserLimit: Type.Integer({ minimum: 1, maximum: 100 }),
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'CreateFlashSaleRequest',
    additionalProperties: false,
    examples: [
      {
        skuId: '1001',
        price: 990,
        stock: 100,
        perUserLimit: 1,
        startsAt: '2026-12-12T02:00:00Z',
        endsAt: '2026-12-12T03:00:00Z',
      },
    ],
  },
);

export const FlashSale = Type.Object(
  {
    id: Id,
    skuId: Id,
    title: Type.String(),
    price: Type.Integer({ description: 'fen' }),
    stock: Type.Integer(),
    perUserLimit: Type.Integer(),
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' }),
    remaining: Type.Integer({ description: 'units left to sell' }),
  },
  { $id: 'FlashSale' },
);

export const FlashSaleStats = Type.Object(
  {
    sale: ref(FlashSale),
    redis: Type.Object({
      remaining: Type.Union([Type.Integer(), Type.Null()]),
      queuedTickets: Type.Integer(),
      loaded: Type.Boolean(),
    }),
    db: Type.Object({
      stock: Type.Integer(),
      sold: Type.Integer({ description: 'units in orders (not returned)' }),
      ordered: Type.Integer(),
      failed: Type.Integer(),
      returned: Type.Integer(),
      orderedTickets: Type.Integer(),
      failedTickets: Type.Integer(),
    }),
  },
  { $id: 'FlashSaleStats' },
);

export const PurchaseBody = Type.Object(
  { quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), address: ref(Address) },
  {
    $id: 'PurchaseRequest',
    additionalProperties: false,
    examples: [
      {
        quantity: 1,
        address: {
          name: 'Li Lei',
          phone: '13800000000',
          province: 'Zhejiang',
          city: 'Hangzhou',
          district: 'Xihu',
          detail: '1 Wensan Road',
        },
      },
    ],
  },
);

export const PurchaseAccepted = Type.Object(
  { ticketId: Type.String(), status: Type.Literal('QUEUED') },
  { $id: 'PurchaseAccepted', description: 'Poll GET /v1/flash-sales/tickets/{ticketId} for the order' },
);

export const TicketParams = Type.Object(
  { ticketId: Type.String({ pattern: '^\\d{1,20}-\\d{1,20}$', maxLength: 41 }) },
  { additionalProperties: false },
);

export const Ticket = Type.Object(
  {
    ticketId: Type.String(),
    saleId: Id,
    status: Type.Union([Type.Literal('QUEUED'), Type.Literal('ORDERED'), Type.Literal('FAILED')]),
    quantity: Type.Integer(),
    orderId: Type.Optional(Id),
    failureReason: Type.Optional(Type.String()),
  },
  { $id: 'Ticket' },
);

export const WebhookAccepted = Type.Object(
  { accepted: Type.Boolean(), type: Type.String() },
  { $id: 'WebhookAccepted' },
);

/** Every named schema, registered on the app in this order (referenced ones first). */
export const sharedSchemas: TSchema[] = [
  ErrorBody,
  Address,
  OrderStatus,
  OrderItem,
  OrderNote,
  OrderPaymentAttempt,
  OrderRefund,
  OrderShipment,
  OrderTimelineEntry,
  OrderAfterSale,
  Order,
  OrderPage,
  OrderCounts,
  SearchSummary,
  OrderVisibility,
  NoteBody,
  OrderNotes,
  CreateOrderBody,
  Payment,
  StartPaymentBody,
  ShipBody,
  ReasonBody,
  AddressChangeBody,
  PriceAdjustBody,
  CreateFlashSaleBody,
  FlashSale,
  FlashSaleStats,
  PurchaseBody,
  PurchaseAccepted,
  Ticket,
  WebhookAccepted,
  AfterSaleStatus,
  AfterSaleRequestBody,
  RefundPreview,
  AfterSale,
  AfterSaleList,
  ReviewBody,
  ReturnShipmentBody,
  LostParcelBody,
];
