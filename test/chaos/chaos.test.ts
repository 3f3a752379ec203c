import { grpcClient } from './driver.js';
import { chaosEnv, killRedis, ONE_OF_EACH, restartRedis, stall, startRedis } from './stack.js';
import { chaosSuite } from './suite.js';

// One of each process against its own Redis server (test/chaos/stack.ts).
chaosSuite({
  title: 'chaos: load with kill -9 of every process, kill -9 and stalls of the broker, MariaDB and Redis',
  specs: ONE_OF_EACH,
  env: chaosEnv,
  redis: {
    start: () => startRedis(true),
    restart: async () => {
      await restartRedis();
      return 'redis restarted';
    },
    stall: async (ms, during) => {
      await stall('redis', ms, during);
      return 'redis';
    },
    stop: killRedis,
  },
  grpc: async (token) => grpcClient(token),
});
