import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import * as redis from '../../src/redis.js';
import * as sdkV1 from '../../src/sdk/v1.js';

// The package's public names, values and types. Widening (or narrowing) the API is a decision:
// it changes this list, the README's API table, and, for a removal, the major version.
const ROOT = [
  'AesGcmCipher',
  'BrowserHandle (type)',
  'CONFIG_FILE_NAME',
  'CircuitBreakerOptions (type)',
  'CircuitOpenError',
  'Clock (type)',
  'ConfigError',
  'ConnectOptions (type)',
  'CorruptCredentialError',
  'CredentialKey (type)',
  'CredentialRecord (type)',
  'CredentialState (type)',
  'CredentialStore (type)',
  'CredentialsChangeReason (type)',
  'FileCredentialStore',
  'FileCredentialStoreOptions (type)',
  'GrantKind (type)',
  'IdentityProviderConfig (type)',
  'IdpLoginOutcome (type)',
  'InsecureHomeError',
  'InsufficientScopeError',
  'Interactive (type)',
  'LoadedConfig (type)',
  'LockOptions (type)',
  'LockTimeoutError',
  'LogLevel (type)',
  'Logger (type)',
  'LoginError',
  'LoginOptions (type)',
  'LoginPrompt (type)',
  'LoginResult (type)',
  'LogoutOutcome (type)',
  'ManagedClient',
  'ManagedProvider (type)',
  'ManagerClosedError',
  'ManagerEvents (type)',
  'McpOAuthError',
  'McpOAuthErrorCode (type)',
  'MigrationOptions (type)',
  'MigrationReport (type)',
  'MigrationTarget (type)',
  'MemoryCredentialStore',
  'MemoryCredentialStoreOptions (type)',
  'NeedsReauthError',
  'NewServerEntry (type)',
  'NewerSchemaError',
  'OAuthConfig (type)',
  'OAuthManager',
  'OAuthManagerOptions (type)',
  'OpenBrowser (type)',
  'PutExpectation (type)',
  'PutResult (type)',
  'ReconnectCause (type)',
  'ScopeRefusal (type)',
  'RecordKeyMissingError',
  'RecordVersion (type)',
  'RotationReport (type)',
  'SelectedStore',
  'SelectedStoreOptions (type)',
  'ServerConfig (type)',
  'ServerStatus (type)',
  'StoreError',
  'TokenEndpointAuthMethod (type)',
  'StoreMovedError',
  'TransientAuthError',
  'TransportKind (type)',
  'UnsafeFileError',
  'addServer',
  'addServers',
  'configPath',
  'connect',
  'consoleLogger',
  'getManager',
  'loadConfig',
  'migrateStore',
  'openInBrowser',
  'removeServer',
  'resetManagerForTests',
  'rotateKey',
  'silentLogger',
];
const SDK_V1 = ['createV1SseTransport', 'createV1StreamableHttpTransport'];

const REDIS = [
  'DEFAULT_REDIS_PREFIX',
  'LeaseLostError',
  'RecordCipher (type)',
  'RedisCredentialStore',
  'RedisCredentialStoreOptions (type)',
  'StoreUnavailableError',
  'redactStoreUrl',
];

/** The names `file` exports as the compiler sees them, a type-only name marked `(type)`. */
function exportsOf(file: string): string[] {
  const path = fileURLToPath(new URL(file, import.meta.url));
  const program = ts.createProgram([path], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(path)!)!;
  return checker
    .getExportsOfModule(module)
    .map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const spec = symbol.declarations?.[0];
      const typeOnly =
        spec !== undefined &&
        ts.isExportSpecifier(spec) &&
        (spec.isTypeOnly || spec.parent.parent.isTypeOnly);
      return target.flags & ts.SymbolFlags.Value && !typeOnly ? symbol.name : `${symbol.name} (type)`;
    })
    .sort();
}

const sorted = (names: string[]) => [...names].sort();

describe('public surface', () => {
  it('the package root exports exactly the documented names', () => {
    expect(exportsOf('../../src/index.ts')).toEqual(sorted(ROOT));
  });

  it('at run time the root exports the value names, and no others', () => {
    expect(Object.keys(root).sort()).toEqual(sorted(ROOT.filter((name) => !name.endsWith('(type)'))));
  });

  it('mcp-oauth-manager/sdk-v1 exports the v1 transport builders only', () => {
    expect(exportsOf('../../src/sdk/v1.ts')).toEqual(SDK_V1);
    expect(Object.keys(sdkV1).sort()).toEqual(SDK_V1);
  });

  it('mcp-oauth-manager/redis exports the Redis store and what its users catch', () => {
    expect(exportsOf('../../src/redis.ts')).toEqual(REDIS);
    expect(Object.keys(redis).sort()).toEqual(REDIS.filter((name) => !name.endsWith('(type)')));
  });

  it('the package publishes the root, sdk-v1 and redis, never the internal seams', async () => {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './package.json', './redis', './sdk-v1']);
  });
});
