/**
 * Every error the service reports has a stable string code. The kind says what sort of failure it
 * is; each transport maps kinds to its own status numbers in one place (restful/, service/).
 */
export type ErrorKind =
  | 'invalid' // the request is malformed or breaks a rule of the input
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict' // the resource exists already / a concurrent request holds it
  | 'precondition' // the resource is in a state that does not allow the operation
  | 'unprocessable' // well-formed but semantically refused (e.g. idempotency key reused with another body)
  | 'rate_limited'
  | 'unavailable' // a dependency is down or the process is overloaded; retry later
  | 'internal';

export const errorCodes = {
  VALIDATION_FAILED: 'invalid',
  PAYLOAD_TOO_LARGE: 'invalid', // HTTP 413
  UNSUPPORTED_MEDIA_TYPE: 'invalid', // HTTP 415
  UNAUTHENTICATED: 'unauthenticated',
  FORBIDDEN: 'forbidden',
  NOT_FOUND: 'not_found',
  ORDER_NOT_FOUND: 'not_found',
  SKU_NOT_FOUND: 'invalid',
  INSUFFICIENT_STOCK: 'precondition',
  TOO_MANY_PENDING_ORDERS: 'precondition',
  ORDER_STATE_CONFLICT: 'precondition',
  CONCURRENT_MODIFICATION: 'conflict',
  IDEMPOTENCY_KEY_IN_FLIGHT: 'conflict',
  IDEMPOTENCY_KEY_REUSED: 'unprocessable',
  PAYMENT_AMOUNT_MISMATCH: 'invalid',
  PAYMENT_NOT_FOUND: 'not_found',
  REFUND_NOT_FOUND: 'not_found',
  ORDER_NOT_PAYABLE: 'precondition',
  REFUND_WINDOW_CLOSED: 'precondition',
  AFTER_SALE_NOT_FOUND: 'not_found',
  AFTER_SALE_STATE_CONFLICT: 'precondition', // the request is not in a state that allows this step
  AFTER_SALE_UNITS_TAKEN: 'precondition', // more units asked than are left to refund on a line
  SHIPMENT_NOT_FOUND: 'not_found', // no such parcel on this order
  SHIPMENT_UNITS_UNAVAILABLE: 'precondition', // more units in a parcel than are left to ship on a line
  SHIPMENT_STATE_CONFLICT: 'precondition', // the parcel is not on its way (delivered or lost already)
  WEBHOOK_REPLAYED: 'conflict',
  WEBHOOK_NOT_OURS: 'invalid', // a verified notification for another merchant id or app id
  PAYMENT_PROVIDER_REFUSED: 'unprocessable', // the provider declined to open, close or refund a charge
  INVALID_SIGNATURE: 'unauthenticated',
  RATE_LIMITED: 'rate_limited',
  TOO_MANY_STREAMS: 'rate_limited', // open order streams (GET /v1/orders/{id}/events) over a cap
  OVERLOADED: 'unavailable',
  DEPENDENCY_UNAVAILABLE: 'unavailable',
  FLASH_SALE_NOT_FOUND: 'not_found',
  FLASH_SALE_NOT_ACTIVE: 'conflict',
  SOLD_OUT: 'conflict',
  PURCHASE_LIMIT_REACHED: 'conflict',
  TICKET_NOT_FOUND: 'not_found',
  INTERNAL: 'internal',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof errorCodes;
