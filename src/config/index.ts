export {
  addServer,
  addServers,
  CONFIG_FILE_NAME,
  configPath,
  type LoadedConfig,
  loadConfig,
  type NewServerEntry,
  removeServer,
  type ServerConfig,
} from './config-file.js';
export {
  type ConfigFileContent,
  configFileSchema,
  type OAuthSettings,
  oauthSettingsSchema,
  resolveClientSecret,
  type SecretResolution,
  type ServerSettings,
  type StoreSettings,
  serverNameSchema,
  serverSettingsSchema,
  storeSettingsSchema,
  toOAuthConfig,
} from './config-schema.js';
export type { OAuthConfig } from './oauth-config.js';
