export type { ServiceToken } from './grpc-security.js';
export { ConfigError, DEFAULT_CONFIG_FILE, ENV_PREFIX, loadConfig } from './load.js';
export type { AlipayConfig, WechatpayConfig } from './payment-providers.js';
export { EXPLICIT_PERMISSIONS, PERMISSIONS, type Permission } from './permissions.js';
export { type Config, configSchema, DEV_SECRETS } from './schema.js';
