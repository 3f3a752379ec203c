import { AppError } from '../errorx/index.js';
import type { ServiceContext } from '../svc/index.js';
import { commitStock, getItems, type Tx } from './repository.js';
import { type TransitionResult, transitionOrder } from './transition.js';

export interface MarkPaidInput {
  orderId: bigint;
  amount: number;
  currency: string;
  paidAt: Date;
  actorId: string;
  /** Marks the payment succeeded in the same transaction; must throw if it was not still pending. */
  settlePayment: (tx: Tx) => Promise<void>;
}

/** PENDING_PAYMENT -> PAID: reserved stock becomes sold; the amount must equal the order total. */
export async function markPaid(ctx: ServiceContext, input: MarkPaidInput): Promise<TransitionResult> {
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'pay',
    actor: { type: 'PROVIDER', id: input.actorId },
    reason: 'payment succeeded',
    guard: (order) => {
      if (order.totalAmount !== input.amount || order.currency !== input.currency) {
        throw new AppError(
          'PAYMENT_AMOUNT_MISMATCH',
          `paid ${input.amount} ${input.currency}, order total is ${order.totalAmount} ${order.currency}`,
        );
      }
    },
    apply: async (tx, order) => {
      await input.settlePayment(tx);
      for (const item of await getItems(tx, order.id)) {
        if (!(await commitStock(tx, item.skuId, item.quantity))) {
          throw new Error(`stock invariant broken: SKU ${item.skuId} has less reserved than order ${order.id} holds`);
        }
      }
      return { paidAmount: input.amount, paidAt: input.paidAt };
    },
  });
}
