import { withDeadline } from '../errorx/index.js';
import type { Logger } from '../telemetry/index.js';
import { goneFromThisHost, type ProcessId, thisProcess } from './process-id.js';
import type { RedisClient as Redis } from './redis.js';

/** How long a claim outlives its process (a kill -9 frees the worker id after this, at most). */
export const CLAIM_TTL_MS = 30_000;
const RENEW_EVERY_MS = 10_000;
const CALL_TIMEOUT_MS = 3_000;

/** KEYS[1] claim; ARGV holder, ttl. Renews our claim, takes a free one, or returns who holds it. */
const RENEW = `
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 'OK' end
if not cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'OK' end
return cur`;

/** KEYS[1] claim; ARGV holder, ttl, previous. Takes over a claim that still names `previous`. */
const TAKE_OVER = `
if redis.call('GET', KEYS[1]) == ARGV[3] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 'OK' end
return redis.call('GET', KEYS[1]) or false`;

export class WorkerIdTaken extends Error {
  override name = 'WorkerIdTaken';
}

interface Holder extends ProcessId {
  process: string;
}

const within = <T>(p: Promise<T>): Promise<T> =>
  withDeadline(p, CALL_TIMEOUT_MS, () => new Error(`Redis did not answer in ${CALL_TIMEOUT_MS} ms`));

function parse(value: string): Holder | undefined {
  try {
    return JSON.parse(value) as Holder;
  } catch {
    return undefined;
  }
}

/**
 * Ids embed a worker id (service.instance × 8 + the process's slot): two processes of one kind with the
 * same instance would make the same ids. The worker id is claimed in Redis (`worker:<id>`, renewed every
 * 10 s, expiring 30 s after its process stops renewing):
 * - at start, a claim held by a live process refuses the start (WorkerIdTaken, naming the holder); a claim
 *   left by a process on this host that is gone (kill -9) is taken over at once;
 * - Redis not answering at start does not stop the start: the claim is made by the next renewal;
 * - a renewal that finds another process holding the id calls `lost` (the process must stop).
 */
export async function claimWorkerId(opts: {
  redis: Redis;
  workerId: number;
  process: string;
  logger: Logger;
  lost: (holder: string) => void;
  /** Tests renew faster. */
  renewEveryMs?: number;
}): Promise<{ release(): Promise<void> }> {
  const { redis, workerId, logger } = opts;
  const key = `worker:${workerId}`;
  const me = JSON.stringify({ ...thisProcess, process: opts.process } satisfies Holder);
  const renew = () => within(redis.eval(RENEW, 1, key, me, String(CLAIM_TTL_MS)) as Promise<string>);
  const refuse = (holder: string) => {
    const h = parse(holder);
    return new WorkerIdTaken(
      `worker id ${workerId} (service.instance ${Math.floor(workerId / 8)}, ${opts.process}) is held by ${
        h ? `${h.process} pid ${h.pid} on ${h.host}` : holder
      }: give each replica its own service.instance (QIANFAN_SERVICE__INSTANCE)`,
    );
  };

  let answer: string | undefined;
  try {
    answer = await renew();
    if (answer !== 'OK') {
      const h = parse(answer);
      if (!h || !goneFromThisHost(h)) throw refuse(answer);
      const took = (await within(
        redis.eval(TAKE_OVER, 1, key, me, String(CLAIM_TTL_MS), answer) as Promise<string | null>,
      )) as string | null;
      if (took !== 'OK') throw refuse(took ?? 'another process');
      logger.info({ workerId, previous: h }, 'worker id taken over from a process that is gone');
    }
  } catch (err) {
    if (err instanceof WorkerIdTaken) throw err;
    logger.warn({ err, workerId }, 'worker id not claimed yet (Redis did not answer); the next renewal claims it');
  }

  let stopped = false;
  const timer = setInterval(() => {
    renew().then(
      (a) => {
        if (a !== 'OK' && !stopped) {
          stopped = true;
          clearInterval(timer);
          opts.lost(refuse(a).message);
        }
      },
      (err: unknown) => logger.warn({ err, workerId }, 'worker id claim not renewed; retrying'),
    );
  }, opts.renewEveryMs ?? RENEW_EVERY_MS);
  timer.unref();

  return {
    async release() {
      stopped = true;
      clearInterval(timer);
      // Only our own claim is deleted.
      await within(
        redis.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
          1,
          key,
          me,
        ) as Promise<number>,
      ).catch((err: unknown) => logger.warn({ err, workerId }, 'worker id claim not released; it expires'));
    },
  };
}
