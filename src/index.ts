/**
 * mcp-oauth-manager: one owner for the OAuth credentials of every remote MCP server a host
 * connects to. This file is the package's whole public surface; every name here is a decision
 * (a test snapshots the list). Seams for tests and benchmarks live in `internal.ts`, which the
 * package does not publish.
 */

// ---------------------------------------------------------------- host-supplied parts: time, logs, browser
export type { Clock } from './clock.js';
// ---------------------------------------------------------------- configuration (config.yaml)
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
} from './config/config-file.js';
export type {
  IdentityProviderConfig,
  OAuthConfig,
  TokenEndpointAuthMethod,
} from './config/oauth-config.js';
// ---------------------------------------------------------------- errors (each with a stable `.code`)
export {
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
export { UnsafeFileError } from './file-safety.js';
export type { CircuitBreakerOptions } from './host/circuit-breaker.js';
// ---------------------------------------------------------------- hosts: connect() and its client
export { type ConnectOptions, connect } from './host/connect.js';
export { ManagedClient, type TransportKind } from './host/managed-client.js';
export { consoleLogger, type Logger, type LogLevel, silentLogger } from './logger.js';
export type { CredentialsChangeReason, ManagerEvents, ReconnectCause } from './manager/events.js';
export type { CredentialState } from './manager/expiry.js';
export type { GrantKind } from './manager/grant-kind.js';
export type { IdpLoginOutcome } from './manager/idp-login.js';
export type { Interactive } from './manager/interactivity.js';
export type { LoginOptions, LoginPrompt, LoginResult } from './manager/login-types.js';
export type { LogoutOutcome } from './manager/logout.js';
// ---------------------------------------------------------------- the manager
export { OAuthManager } from './manager/oauth-manager.js';
export type { ScopeRefusal } from './manager/scope-refusal.js';
export type { ServerStatus } from './manager/server-status.js';
export type { OAuthManagerOptions } from './manager/settings.js';
export { getManager, resetManagerForTests } from './manager/singleton.js';
export { type BrowserHandle, type OpenBrowser, openInBrowser } from './oauth/browser.js';
// ---------------------------------------------------------------- the SDK seam (v2 AuthProvider + fetch)
export type { ManagedProvider } from './sdk/managed-provider.js';
// ---------------------------------------------------------------- fleets: store selection, encryption at rest, migration
export { AesGcmCipher } from './store/aes-gcm-cipher.js';
// ---------------------------------------------------------------- credential stores
export type { CredentialRecord, RecordVersion } from './store/credential-record.js';
export type {
  CredentialKey,
  CredentialStore,
  LockOptions,
  PutExpectation,
  PutResult,
} from './store/credential-store.js';
export { RecordKeyMissingError } from './store/encryption-errors.js';
export { FileCredentialStore, type FileCredentialStoreOptions } from './store/file-credential-store.js';
export { type RotationReport, rotateKey } from './store/key-rotation.js';
export { MemoryCredentialStore, type MemoryCredentialStoreOptions } from './store/memory-credential-store.js';
export { SelectedStore, type SelectedStoreOptions } from './store/selected-store.js';
export {
  type MigrationOptions,
  type MigrationReport,
  type MigrationTarget,
  migrateStore,
} from './store/store-migration.js';
export { StoreMovedError } from './store/store-moved-error.js';
