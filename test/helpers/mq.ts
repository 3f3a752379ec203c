import type { Registry } from 'prom-client';
import { ConsumerLoop, type Envelope, type GroupDef, type MessageMeta } from '../../internal/mq/index.js';
import { createMetrics } from '../../internal/telemetry/index.js';
import { testConfig } from './config.js';
import { testLogger } from './logger.js';

export interface Received {
  envelope: Envelope;
  meta: MessageMeta;
  at: number;
}

/**
 * Runs a real consumer loop on a test group and records every message whose event id `want` accepts;
 * other messages (left over from earlier runs) are acked and ignored.
 */
export async function collector(
  group: GroupDef,
  want: (eventId: string) => boolean,
  metrics: Registry = createMetrics({ service: 't', process: 'script' }),
  namespace?: string,
) {
  const config = testConfig(namespace === undefined ? {} : { QIANFAN_ROCKETMQ__NAMESPACE: namespace });
  const received: Received[] = [];
  const loop = new ConsumerLoop({
    ...config.rocketmq,
    group: group.name,
    topic: group.topic,
    awaitMs: 4000,
    invisibleMs: 10_000,
    logger: testLogger,
    metrics,
    handler: async (envelope, meta) => {
      if (want(envelope.eventId)) received.push({ envelope, meta, at: Date.now() });
    },
  });
  await loop.start();
  return { received, stop: () => loop.stop() };
}
