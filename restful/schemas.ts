import { type Static, Type } from '@sinclair/typebox';

export const Id = Type.String({ pattern: '^[1-9]\\d{0,19}$', description: '64-bit id as a decimal string' });
export const IdParams = Type.Object({ id: Id }, { additionalProperties: false });

export const ErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  requestId: Type.String(),
});

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
  { additionalProperties: false },
);

export const OrderStatus = Type.Union([
  Type.Literal('PENDING_PAYMENT'),
  Type.Literal('PAID'),
  Type.Literal('SHIPPED'),
  Type.Literal('DELIVERED'),
  Type.Literal('COMPLETED'),
  Type.Literal('CANCELLED'),
  Type.Literal('REFUNDING'),
  Type.Literal('REFUNDED'),
  Type.Literal('REFUND_FAILED'),
]);

export const CreateOrderBody = Type.Object(
  {
    items: Type.Array(
      Type.Object({ skuId: Id, quantity: Type.Integer({ minimum: 1, maximum: 999 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 50 },
    ),
    address: Address,
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export type CreateOrderBody = Static<typeof CreateOrderBody>;

export const OrderItem = Type.Object({
  skuId: Id,
  title: Type.String(),
  unitPrice: Type.Integer({ description: 'fen' }),
  quantity: Type.Integer(),
  lineTotal: Type.Integer({ description: 'fen' }),
});

const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const Order = Type.Object({
  id: Id,
  orderNo: Type.String(),
  userId: Id,
  status: OrderStatus,
  currency: Type.String(),
  itemsAmount: Type.Integer(),
  shippingFee: Type.Integer(),
  discountAmount: Type.Integer(),
  totalAmount: Type.Integer({ description: 'fen' }),
  paidAmount: Type.Integer(),
  refundedAmount: Type.Integer(),
  address: Address,
  note: Type.String(),
  version: Type.Integer(),
  payDeadline: Type.String({ format: 'date-time' }),
  paidAt: Time,
  shippedAt: Time,
  deliveredAt: Time,
  completedAt: Time,
  cancelledAt: Time,
  cancelReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  items: Type.Optional(Type.Array(OrderItem)),
});

export const OrderPage = Type.Object({
  orders: Type.Array(Order),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const ListQuery = Type.Object(
  {
    status: Type.Optional(OrderStatus),
    createdFrom: Type.Optional(Type.String({ format: 'date-time' })),
    createdTo: Type.Optional(Type.String({ format: 'date-time' })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    /** Query strings are strings: validated as 1-100 here, converted by the route. */
    limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
    userId: Type.Optional(Id),
  },
  { additionalProperties: false },
);

export const Payment = Type.Object({
  id: Id,
  orderId: Id,
  provider: Type.String(),
  amount: Type.Integer(),
  currency: Type.String(),
  status: Type.String(),
  payUrl: Type.String(),
});

export const ShipBody = Type.Object(
  {
    carrier: Type.String({ pattern: '^[A-Za-z0-9_-]{2,32}$' }),
    trackingNo: Type.String({ pattern: '^[A-Za-z0-9-]{4,64}$' }),
  },
  { additionalProperties: false },
);
export const ReasonBody = Type.Object(
  { reason: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);
export const StartPaymentBody = Type.Object(
  { provider: Type.Optional(Type.String({ maxLength: 32 })) },
  { additionalProperties: false },
);

export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

export const CreateFlashSaleBody = Type.Object(
  {
    skuId: Id,
    price: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'fen' }),
    stock: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    perUserLimit: Type.Integer({ minimum: 1, maximum: 100 }),
    startsAt: Type.String({ format: 'date-time' }),
    endsAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);

export const FlashSale = Type.Object({
  id: Id,
  skuId: Id,
  title: Type.String(),
  price: Type.Integer({ description: 'fen' }),
  stock: Type.Integer(),
  perUserLimit: Type.Integer(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  remaining: Type.Integer({ description: 'units left to sell' }),
});

export const FlashSaleStats = Type.Object({
  sale: FlashSale,
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
});

export const PurchaseBody = Type.Object(
  { quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })), address: Address },
  { additionalProperties: false },
);

export const TicketParams = Type.Object(
  { ticketId: Type.String({ pattern: '^\\d{1,20}-\\d{1,20}$', maxLength: 41 }) },
  { additionalProperties: false },
);

export const Ticket = Type.Object({
  ticketId: Type.String(),
  saleId: Id,
  status: Type.Union([Type.Literal('QUEUED'), Type.Literal('ORDERED'), Type.Literal('FAILED')]),
  quantity: Type.Integer(),
  orderId: Type.Optional(Id),
  failureReason: Type.Optional(Type.String()),
});
