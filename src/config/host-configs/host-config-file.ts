/**
 * Reading a host's configuration file, which is untrusted input: not through a symbolic link,
 * only a regular file of this user that others cannot write (src/file-safety.ts), and no
 * larger than MAX_HOST_FILE_BYTES; each refusal is a reason for the report, never a crash.
 */
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import { openSafeFile, UnsafeFileError } from '../../file-safety.js';
import { errnoCode } from '../../fs-errors.js';

/** The largest host file read: real ones are a few kilobytes; a huge one is not parsed. */
export const MAX_HOST_FILE_BYTES = 4 * 1024 * 1024;

/** A host file's text and its hash, or why it was not read (`missing`: no such file, nothing to report). */
export type HostFileRead =
  | { ok: true; text: string; sha256: string }
  | { ok: false; missing: boolean; reason: string };

/** SHA-256 of text, hex: how install and uninstall tell whether a file changed in between. */
export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Reads `file` under the rules above. */
export async function readHostFile(file: string): Promise<HostFileRead> {
  try {
    const link = await lstat(file).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!link) return { ok: false, missing: true, reason: 'no such file' };
    if (link.isSymbolicLink()) {
      return {
        ok: false,
        missing: false,
        reason:
          'it is a symbolic link; not followed (pass the file it points to with --file if you trust it)',
      };
    }
    const opened = await openSafeFile(file, 'the host configuration file');
    if (!opened) return { ok: false, missing: true, reason: 'no such file' };
    const { handle, stats } = opened;
    try {
      if (Number(stats.size) > MAX_HOST_FILE_BYTES) {
        return {
          ok: false,
          missing: false,
          reason: `it is ${Number(stats.size)} bytes, over the ${MAX_HOST_FILE_BYTES}-byte limit for a host configuration file; not read`,
        };
      }
      // Read at most one byte more than the limit: a file that grows meanwhile is still bounded.
      const buffer = Buffer.alloc(MAX_HOST_FILE_BYTES + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
        if (bytesRead === 0) break;
        length += bytesRead;
        if (length > MAX_HOST_FILE_BYTES) {
          return {
            ok: false,
            missing: false,
            reason: `it is over the ${MAX_HOST_FILE_BYTES}-byte limit; not read`,
          };
        }
      }
      const text = buffer.subarray(0, length).toString('utf8');
      return { ok: true, text, sha256: sha256(text) };
    } finally {
      await handle.close().catch(() => {});
    }
  } catch (error) {
    if (error instanceof UnsafeFileError) return { ok: false, missing: false, reason: error.message };
    return {
      ok: false,
      missing: false,
      reason: `it could not be read (${errnoCode(error) ?? (error instanceof Error ? error.message : String(error))})`,
    };
  }
}
