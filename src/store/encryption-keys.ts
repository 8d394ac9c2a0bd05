import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { readSafeFile, UnsafeFileError } from '../file-safety.js';
import { registerSecret } from '../logger.js';
import { shellQuote } from '../shell-quote.js';
import { AesGcmCipher, KEY_BYTES } from './aes-gcm-cipher.js';

/** The environment variable holding the current key (base64 of 32 bytes). */
export const ENCRYPTION_KEY_ENV = 'MCP_OAUTH_ENCRYPTION_KEY';
/** The environment variable holding previous keys during a rotation (comma-separated, read-only). */
export const PREVIOUS_KEYS_ENV = 'MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS';

/** `store.encryption` as config.yaml gives it: `none`, key files, or absent. */
export type EncryptionSetting = 'none' | { key_file?: string; previous_key_files?: string[] } | undefined;

/** What the configuration and environment decide: a cipher, an explicit `none`, or nothing said. */
export type Encryption = { kind: 'key'; cipher: AesGcmCipher } | { kind: 'none' } | { kind: 'unset' };

const HOW_TO_MAKE = 'make one with: openssl rand -base64 32';
// Standard or URL-safe alphabet, 43 characters and the one padding character of 32 bytes.
const BASE64_32 = /^[A-Za-z0-9+/_-]{43}=?$/;

/** The 32 bytes of a base64 key, or a ConfigError saying `where` it came from and how to fix it. */
export function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!BASE64_32.test(trimmed)) {
    const bytes = Buffer.from(trimmed, 'base64');
    const detail =
      trimmed.length === 0
        ? 'it is empty'
        : /^[A-Za-z0-9+/_=-]+$/.test(trimmed)
          ? `it decodes to ${bytes.length} bytes, not ${KEY_BYTES}`
          : 'it is not base64';
    throw new ConfigError(
      `The encryption key in ${where} is unusable: ${detail}. It must be the base64 of ${KEY_BYTES} random bytes; ${HOW_TO_MAKE}.`,
      {
        key: 'store.encryption',
      },
    );
  }
  const key = Buffer.from(trimmed.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  registerSecret(trimmed);
  return key;
}

/**
 * Reads a key file: a regular file of this user that no one else can read or write (it is the key
 * to every stored token), holding the base64 of 32 bytes. Relative paths are from `baseDir` (the
 * home folder). Every problem is a ConfigError naming the file and the fix.
 */
export async function readKeyFile(path: string, baseDir: string): Promise<Buffer> {
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  const where = `the key file ${file}`;
  let read: Awaited<ReturnType<typeof readSafeFile>>;
  try {
    read = await readSafeFile(file, 'the encryption key file');
  } catch (error) {
    if (error instanceof UnsafeFileError)
      throw new ConfigError(error.message, { file, key: 'store.encryption' });
    throw new ConfigError(
      `Cannot read ${where}: ${(error as Error).message}. Check the path and its permissions.`,
      {
        file,
        key: 'store.encryption',
      },
    );
  }
  if (!read) {
    throw new ConfigError(
      `${where} does not exist; create it (${HOW_TO_MAKE} > ${shellQuote(file)}; chmod 600 ${shellQuote(file)}) or fix the path.`,
      {
        file,
        key: 'store.encryption',
      },
    );
  }
  if (process.platform !== 'win32' && (Number(read.stats.mode) & 0o077) !== 0) {
    throw new ConfigError(
      `Refusing ${where}: other users can read it (mode ${(Number(read.stats.mode) & 0o777).toString(8)}). Fix it with: chmod 600 ${shellQuote(file)}`,
      {
        file,
        key: 'store.encryption',
      },
    );
  }
  return decodeKey(read.bytes.toString('utf8'), where);
}

/**
 * The encryption in force: the environment (`MCP_OAUTH_ENCRYPTION_KEY`, and
 * `MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS`) wins over `store.encryption` of config.yaml; previous keys
 * from both are read-only. `none` only when written in config.yaml and no key is in the
 * environment.
 */
export async function loadEncryption(
  setting: EncryptionSetting,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): Promise<Encryption> {
  const fileSetting = setting !== undefined && setting !== 'none' ? setting : undefined;
  const previous: Buffer[] = [];
  const envPrevious = env[PREVIOUS_KEYS_ENV];
  if (envPrevious) {
    for (const [index, part] of envPrevious.split(',').entries()) {
      if (part.trim()) previous.push(decodeKey(part, `${PREVIOUS_KEYS_ENV} (entry ${index + 1})`));
    }
  }
  for (const path of fileSetting?.previous_key_files ?? []) previous.push(await readKeyFile(path, baseDir));
  const envKey = env[ENCRYPTION_KEY_ENV];
  let current: Buffer | undefined;
  if (envKey !== undefined && envKey !== '') current = decodeKey(envKey, ENCRYPTION_KEY_ENV);
  else if (fileSetting?.key_file !== undefined) current = await readKeyFile(fileSetting.key_file, baseDir);
  if (current) return { kind: 'key', cipher: new AesGcmCipher(current, previous) };
  if (previous.length > 0) {
    throw new ConfigError(
      `Previous encryption keys are configured but no current key: set ${ENCRYPTION_KEY_ENV} (or store.encryption.key_file) to the new key.`,
      { key: 'store.encryption' },
    );
  }
  return setting === 'none' ? { kind: 'none' } : { kind: 'unset' };
}
