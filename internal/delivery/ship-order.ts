import { AppError, isDuplicateKey } from '../errorx/index.js';
import { shipments } from '../model/index.js';
import { type Actor, type Tx, transitionOrder } from '../order/index.js';
import type { ServiceContext } from '../svc/index.js';

export interface ShipOrderInput {
  orderId: bigint;
  carrier: string;
  trackingNo: string;
  actor: Actor;
}

/** Admin: PAID -> SHIPPED with the carrier and tracking number. */
/** What is wrong with a carrier and tracking number, or undefined when both are well formed. */
export function shipmentProblem(carrier: string, trackingNo: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{2,32}$/.test(carrier)) return 'carrier must be 2-32 letters, digits, _ or -';
  if (!/^[A-Za-z0-9-]{4,64}$/.test(trackingNo)) return 'trackingNo must be 4-64 letters, digits or -';
  return undefined;
}

export async function shipOrder(ctx: ServiceContext, input: ShipOrderInput) {
  const problem = shipmentProblem(input.carrier, input.trackingNo);
  if (problem) throw new AppError('VALIDATION_FAILED', problem);
  const now = new Date();
  return transitionOrder(ctx, {
    orderId: input.orderId,
    event: 'ship',
    actor: input.actor,
    reason: `${input.carrier} ${input.trackingNo}`,
    apply: async (tx, order) => {
      await insertShipment(tx, {
        id: ctx.ids.next(),
        orderId: order.id,
        carrier: input.carrier,
        trackingNo: input.trackingNo,
        status: 'SHIPPED',
        shippedAt: now,
      });
      return { shippedAt: now };
    },
  });
}

async function insertShipment(tx: Tx, row: typeof shipments.$inferInsert) {
  try {
    await tx.insert(shipments).values(row);
  } catch (err) {
    if (isDuplicateKey(err)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `tracking number ${row.carrier} ${row.trackingNo} is already used by another shipment`,
      );
    }
    throw err;
  }
}
