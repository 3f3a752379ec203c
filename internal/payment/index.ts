export { type ApplyOutcome, applyPaymentResult, type PaymentResult } from './apply-payment-result.js';
export { completeRefund } from './complete-refund.js';
export { type PaymentProvider, providerFor, sandboxProvider } from './provider.js';
export { getPayment, type PaymentRow, paymentsOfOrder, type RefundRow, refundsOfOrder } from './repository.js';
export { type RequestRefundInput, requestRefund } from './request-refund.js';
export { resendRefunds } from './resend-refunds.js';
export { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './signature.js';
export { type StartPaymentInput, startPayment } from './start-payment.js';
export {
  applyNotification,
  ingestPaymentWebhook,
  PAYMENT_NOTIFICATION_EVENT,
  type PaymentNotification,
  sandboxWebhook,
} from './webhook.js';
