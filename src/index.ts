export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export {
  addServer,
  CONFIG_FILE_NAME,
  configPath,
  type LoadedConfig,
  loadConfig,
  removeServer,
  type ServerConfig,
} from './config/index.js';
export type { OAuthConfig } from './config/oauth-config.js';
export {
  BindingMismatchError,
  CircuitOpenError,
  ConfigError,
  CorruptCredentialError,
  InsecureHomeError,
  InsufficientScopeError,
  LockTimeoutError,
  LoginError,
  ManagerClosedError,
  McpOAuthError,
  type McpOAuthErrorCode,
  NeedsReauthError,
  NewerSchemaError,
  StoreError,
  TransientAuthError,
} from './errors.js';
export { CircuitBreaker, type CircuitBreakerOptions } from './host/circuit-breaker.js';
export { type ConnectOptions, connect } from './host/connect.js';
export { MAX_STEP_UPS_PER_CALL, ManagedClient, type TransportKind } from './host/managed-client.js';
export {
  consoleLogger,
  type Logger,
  type LogLevel,
  redact,
  redactingLogger,
  silentLogger,
} from './logger.js';
export { isLoopbackHost } from './loopback.js';
export type { CredentialsChangeReason, ManagerEvents, ReconnectCause } from './manager/events.js';
export type { CredentialState } from './manager/expiry.js';
export type { Interactive } from './manager/interactivity.js';
export {
  type LoginOptions,
  type LoginPrompt,
  type LoginResult,
  OAuthManager,
  type OAuthManagerOptions,
  type ServerStatus,
} from './manager/oauth-manager.js';
export { getManager, resetManagerForTests } from './manager/singleton.js';
export type { BrowserHandle, OpenBrowser } from './oauth/browser.js';
export { openInBrowser } from './oauth/browser.js';
export { ManagedProvider } from './sdk/managed-provider.js';
export * from './store/index.js';
