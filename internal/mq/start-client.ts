import type { BaseClient } from 'rocketmq-client-nodejs';
import { withDeadline } from '../errorx/index.js';

/**
 * Starts a rocketmq-client-nodejs client, bounded in time.
 *
 * startup() waits for the proxy's first settings command, but in client 1.0.8 that command can
 * arrive before the wait begins, and then startup() waits forever. While it is pending we send our
 * settings again every 500 ms (the proxy answers each with a settings command), which releases it.
 */
export async function startClient(
  what: string,
  client: BaseClient,
  endpoints: string,
  timeoutMs: number,
): Promise<void> {
  const resync = setInterval(() => {
    const routed = client as unknown as { getTotalRouteEndpoints(): Parameters<BaseClient['telemetry']>[0][] };
    try {
      for (const ep of routed.getTotalRouteEndpoints()) client.telemetry(ep, client.settingsCommand());
    } catch {
      // routes not fetched yet: the next tick tries again
    }
  }, 500);
  try {
    await withDeadline(
      client.startup(),
      timeoutMs,
      () =>
        new Error(
          `${what} did not start within ${timeoutMs} ms: is the RocketMQ proxy up at ${endpoints} and are the topics created? (deploy/rocketmq/rocketmq.sh status)`,
        ),
    );
  } catch (err) {
    await client.shutdown().catch(() => {});
    throw err;
  } finally {
    clearInterval(resync);
  }
}
