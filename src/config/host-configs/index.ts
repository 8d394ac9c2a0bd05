/** Other hosts' MCP configuration files: reading them (servers import) and editing them (hosts install). */

export { MAX_HOST_FILE_BYTES, readHostFile, sha256 } from './host-config-file.js';
export { HostFileError } from './host-document.js';
export { classifyEntry, type EntryKind, type HostEntry, resolveUrl, sanitizeName } from './host-entry.js';
export {
  type FileInstall,
  type FileUninstall,
  type ProxyLauncher,
  planFileInstall,
  planFileUninstall,
  proxyEntry,
  proxyLauncher,
} from './host-install.js';
export {
  guessHost,
  HOST_IDS,
  HOSTS,
  type HostDefinition,
  type HostId,
  type HostLocation,
  hostById,
  type LocationContext,
} from './host-registry.js';
export { type ScannedEntry, type ScannedFile, scanFile, scanHosts } from './host-scan.js';
export {
  comparableUrl,
  type FileReport,
  type ImportedServer,
  type ImportPlan,
  planImport,
  type SkippedEntry,
} from './import-plan.js';
export {
  type InstalledEntry,
  type InstalledFile,
  type InstallState,
  installPaths,
  readInstallState,
  withHostsLock,
  writeBackup,
  writeInstallState,
} from './install-state.js';
