export { ensureHome, type HomeFolders, resolveHome } from '../home-folder.js';
export {
  type ClientKind,
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  credentialRecordSchema,
  type RecordVersion,
  type StoredClient,
  type StoredDiscovery,
  type StoredTokens,
  sameVersion,
  versionOf,
} from './credential-record.js';
export {
  type CredentialKey,
  type CredentialStore,
  keyId,
  type LockOptions,
  type PutExpectation,
  type PutResult,
} from './credential-store.js';
export { FileCredentialStore, type FileCredentialStoreOptions } from './file-credential-store.js';
export { fileNameFor } from './file-names.js';
export { MemoryCredentialStore, type MemoryCredentialStoreOptions } from './memory-credential-store.js';
