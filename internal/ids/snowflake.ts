/**
 * 64-bit time-ordered ids: 41 bits of milliseconds since 2024-01-01, 10 bits of worker id, 12 bits
 * of sequence (4096 ids per ms per worker). The worker id must be unique among running processes:
 * it is instance (config service.instance, 0-127) * 8 + the process slot (restful 0, service 1,
 * consumer 2, job 3, script 4).
 */
export const EPOCH_MS = Date.UTC(2024, 0, 1);
const WORKER_BITS = 10n;
const SEQ_BITS = 12n;
const MAX_SEQ = (1n << SEQ_BITS) - 1n;

export const processSlots = { restful: 0, service: 1, consumer: 2, job: 3, script: 4 } as const;
export type ProcessName = keyof typeof processSlots;

export class IdGenerator {
  readonly workerId: bigint;
  #lastMs = -1;
  #seq = 0n;

  constructor(workerId: number) {
    if (!Number.isInteger(workerId) || workerId < 0 || workerId >= 1 << Number(WORKER_BITS)) {
      throw new RangeError(`worker id must be an integer in [0, 1023], got ${workerId}`);
    }
    this.workerId = BigInt(workerId);
  }

  static forProcess(instance: number, process: ProcessName): IdGenerator {
    return new IdGenerator(instance * 8 + processSlots[process]);
  }

  next(): bigint {
    let now = Date.now();
    if (now < this.#lastMs) now = this.#lastMs; // clock stepped back: keep ids increasing
    if (now === this.#lastMs) {
      this.#seq = (this.#seq + 1n) & MAX_SEQ;
      if (this.#seq === 0n) {
        // 4096 ids in this millisecond already: borrow the next millisecond
        now = this.#lastMs + 1;
      }
    } else {
      this.#seq = 0n;
    }
    this.#lastMs = now;
    return (BigInt(now - EPOCH_MS) << (WORKER_BITS + SEQ_BITS)) | (this.workerId << SEQ_BITS) | this.#seq;
  }
}

/** The time an id was made. */
export function idTime(id: bigint): Date {
  return new Date(Number(id >> (WORKER_BITS + SEQ_BITS)) + EPOCH_MS);
}
