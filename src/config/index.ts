// The config module's public surface; everything else in this folder is an implementation detail.
export { DEFAULT_PORT, DEFAULTS } from './defaults.ts';
export { DURATION_RULE, formatDuration, parseDuration } from './duration.ts';
export { BASE_URL_ENV, CREDENTIAL_ENV, ENV_PREFIX, envSettingName } from './env.ts';
export { ConfigError } from './errors.ts';
export { dumpConfig } from './dump.ts';
export { parseListenAddress } from './listen-address.ts';
export type { ListenAddress } from './listen-address.ts';
export { loadConfig, loadWebSettings } from './load.ts';
export type { LoadConfigOptions } from './load.ts';
export { createConfigSchema } from './schema.ts';
export { REDACTED, Secret } from './secret.ts';
export { DISCOVERY_DIRECTIONS, LOG_FORMATS, LOG_LEVELS } from './types.ts';
export type {
  AccountConfig,
  AdminConfig,
  Config,
  Credentials,
  DiscoveryConfig,
  DiscoveryDirection,
  LogConfig,
  LogFormat,
  LogLevel,
  OtlpConfig,
  StaticCall,
  WebConfig,
  WebhooksConfig,
} from './types.ts';
