export {
  AFTER_SALE_REFUND,
  approveAfterSaleRequest,
  openAfterSaleRequest,
  receiveAfterSaleReturn,
} from './after-sale-refunds.js';
export { type ApplyOutcome, applyPaymentResult, type PaymentResult } from './apply-payment-result.js';
export { closePaymentAtProvider, closeUnkeepablePayments } from './close-payments.js';
export { completeRefund } from './complete-refund.js';
export { PAYMENT_NOTIFICATION_EVENT } from './enqueue.js';
export { failRefund } from './fail-refund.js';
export { fenToYuan, yuanToFen } from './money.js';
export { notificationJsonSchema, type PaymentNotification, parseNotification } from './notification.js';
export {
  bounded,
  type ChargeStatus,
  type PaymentProvider,
  providerFor,
} from './provider.js';
export { ingestAlipayWebhook, ingestWechatpayWebhook, type ProviderWebhookOutcome } from './provider-webhook.js';
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
export { recordSandboxOutcome, requireSandbox } from './sandbox-provider.js';
export { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from './signature.js';
export { type StartPaymentInput, startPayment } from './start-payment.js';
export { applyNotification, ingestPaymentWebhook, sandboxWebhook } from './webhook.js';
