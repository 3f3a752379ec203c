import type { Config } from '../../internal/config/index.js';
import { MqProducer, txLogChecker } from '../../internal/mq/index.js';
import type { ServiceContext } from '../../internal/svc/index.js';
import { testLogger } from './logger.js';

/**
 * A producer of `topic` (not yet started) that answers the broker's transaction check-backs from the
 * tx-log as the service does, and records each answer by event id in `asked`: a test kills the producer
 * of a half message, then starts this one to see how the check-back resolves it.
 */
export function checkBackProducer(config: Config, db: ServiceContext['db'], topic: string, rollbackAfterMs: number) {
  const asked = new Map<string, number>();
  const check = txLogChecker(db, rollbackAfterMs);
  const producer = new MqProducer({
    ...config.rocketmq,
    topics: [topic],
    logger: testLogger,
    checker: async (m) => {
      const resolution = await check(m);
      if (m.eventId) asked.set(m.eventId, resolution);
      return resolution;
    },
  });
  return { producer, asked };
}
