export { type ApplyOutcome, applyPaymentResult, type PaymentResult } from './apply-payment-result.js';
export { completeRefund } from './complete-refund.js';
export { failRefund } from './fail-refund.js';
export { notificationJsonSchema, type PaymentNotification, parseNotification } from './notification.js';
export {
  bounded,
  type ChargeStatus,
  type PaymentProvider,
  providerFor,
  recordSandboxOutcome,
  requireSandbox,
} from './provider.js';
export { type PaymentsReport, reconcilePayments } from './reconcile-payments.js';
export {
  getPayment,
  getRefund,
  type PaymentRow,
  paymentsOfOrder,
  type RefundRow,
  refundsOfOrder,
} from './repository.js';
export { type RequestRefundInput, requestRefund } from './request-refund.js';
export { resendRefunds } from './resend-refunds.js';
export { retryRefund } from './retry-refund.js';
export { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './signature.js';
export { type StartPaymentInput, startPayment } from './start-payment.js';
export { applyNotification, ingestPaymentWebhook, PAYMENT_NOTIFICATION_EVENT, sandboxWebhook } from './webhook.js';
