import { ConfigError } from '../errors.js';

/**
 * A stored record was sealed with an encryption key this process does not hold (its key id is in
 * the record). Not a corrupt record: nothing is moved aside or deleted; configure the key (as the
 * current key or a previous one) and the record reads again.
 */
export class RecordKeyMissingError extends ConfigError {
  /** The key id written in the record (a short hash of the key, never the key). */
  readonly keyId: string;
  constructor(keyId: string, held: readonly string[]) {
    super(
      `A stored credential is encrypted with the key whose id is ${keyId}, which this process does not hold (${
        held.length > 0 ? `it holds ${held.join(', ')}` : 'no encryption key is configured'
      }). Nothing was changed. Set MCP_OAUTH_ENCRYPTION_KEY (or store.encryption.key_file) to that key, or list it in MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS (or store.encryption.previous_key_files) during a rotation.`,
      { key: 'store.encryption' },
    );
    this.keyId = keyId;
  }
}
