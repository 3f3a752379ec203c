import { type Config, loadConfig } from '../../internal/config/index.js';

/** The test suite's config: config/test.yaml (own database, Redis prefix, etcd prefix and ports). */
export const TEST_CONFIG_FILE = 'config/test.yaml';

/**
 * Switches the suite from the single Redis to a Redis Cluster (deploy/local/redis-cluster.sh): set in the
 * test runner's environment, it reaches every test's config and every process a test starts.
 */
const CLUSTER_ENV = 'QIANFAN_REDIS__CLUSTER_NODES';
const cluster = (): NodeJS.ProcessEnv => (process.env[CLUSTER_ENV] ? { [CLUSTER_ENV]: process.env[CLUSTER_ENV] } : {});

export function testConfig(overrides: NodeJS.ProcessEnv = {}): Config {
  return loadConfig({ QIANFAN_CONFIG: TEST_CONFIG_FILE, ...cluster(), ...overrides });
}

/** Environment for child processes started by tests. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('QIANFAN_')) env[k] = v;
  return { ...env, QIANFAN_CONFIG: TEST_CONFIG_FILE, ...cluster(), ...extra };
}
