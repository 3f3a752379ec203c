export { ConfigError, DEFAULT_CONFIG_FILE, ENV_PREFIX, loadConfig } from './load.js';
export { type Config, configSchema } from './schema.js';
