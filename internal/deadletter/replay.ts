import { AppError } from '../errorx/index.js';
import { decodeEnvelope } from '../mq/index.js';
import { requireMq, type ServiceContext } from '../svc/index.js';
import { DEAD_LETTER_PROPERTY } from './record.js';
import { type DeadLetterRow, getDeadLetters, listDeadLetters, markReplayed, revertReplayed } from './repository.js';

export interface ReplayInput {
  /** Letters to replay; or `all` for every PARKED letter (of `topic`, when given). */
  ids?: bigint[];
  all?: boolean;
  topic?: string;
  dryRun?: boolean;
  onProgress?: (done: number, letter: DeadLetterRow) => void;
}

export interface ReplayResult {
  replayed: string[];
  skipped: Array<{ id: string; reason: string }>;
  dryRun: boolean;
}

/**
 * Re-publishes dead letters to their topic with the original key, tag and message group (so FIFO order
 * per group holds) and the `dead_letter_id` property: the consumer marks a letter RESOLVED when its
 * replay is applied, or PARKED again with the new error. Resolved letters are never replayed again.
 * A letter is marked REPLAYED before it is sent (and PARKED again if the send fails), so a consumer
 * that applies the replay at once always finds it REPLAYED and its RESOLVED is never lost.
 */
export async function replayDeadLetters(ctx: ServiceContext, input: ReplayInput): Promise<ReplayResult> {
  if (!input.all && !input.ids?.length) throw new AppError('VALIDATION_FAILED', 'name dead-letter ids, or all');
  const letters = input.all ? await allParked(ctx, input.topic) : await getDeadLetters(ctx.db, input.ids ?? []);
  const result: ReplayResult = { replayed: [], skipped: [], dryRun: Boolean(input.dryRun) };
  const found = new Set(letters.map((l) => l.id));
  for (const id of input.ids ?? []) if (!found.has(id)) result.skipped.push({ id: String(id), reason: 'not found' });
  for (const [i, letter] of letters.entries()) {
    const id = String(letter.id);
    if (letter.status === 'RESOLVED') {
      result.skipped.push({ id, reason: 'already resolved' });
    } else if (!input.dryRun) {
      const envelope = decodeEnvelope(Buffer.from(letter.body, 'utf8'));
      await markReplayed(ctx.db, letter.id);
      try {
        await requireMq(ctx).send({
          topic: letter.topic,
          envelope,
          key: letter.messageKey || undefined,
          tag: letter.tag || undefined,
          messageGroup: letter.messageGroup || undefined, // a FIFO message stays in its group
          properties: { [DEAD_LETTER_PROPERTY]: id },
        });
      } catch (err) {
        await revertReplayed(ctx.db, letter.id);
        throw err;
      }
      result.replayed.push(id);
    } else {
      result.replayed.push(id);
    }
    input.onProgress?.(i + 1, letter);
  }
  return result;
}

async function allParked(ctx: ServiceContext, topic?: string): Promise<DeadLetterRow[]> {
  const out: DeadLetterRow[] = [];
  for (let afterId: bigint | undefined; ; ) {
    const page = await listDeadLetters(ctx.db, { topic, status: 'PARKED', afterId, limit: 500 });
    out.push(...page);
    if (page.length < 500) return out;
    afterId = page[page.length - 1]!.id;
  }
}
