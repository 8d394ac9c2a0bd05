import type { Command } from 'commander';
import { ConfigError } from '../../../errors.js';
import type { CliContext } from '../../context.js';
import type { Dispatch } from '../../runner.js';
import { openSpec, selectedSpec } from './selected-spec.js';

/** Defines `store rotate-key` and hands it to `dispatch`. */
export function registerStoreRotateKey(store: Command, dispatch: Dispatch): void {
  store
    .command('rotate-key')
    .description('re-encrypt every stored credential under the current encryption key')
    .addHelpText(
      'after',
      `
Rotation: give every process the new key as MCP_OAUTH_ENCRYPTION_KEY and the old one in
MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS (or store.encryption.key_file / previous_key_files), run this
once, then drop the previous key. Records are rewritten under each credential's lock.

Example:
  $ MCP_OAUTH_ENCRYPTION_KEY=$NEW MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS=$OLD mcp-oauth store rotate-key`,
    )
    .action((_options: unknown, command: Command) => dispatch(command, runStoreRotateKey, {}));
}

/** Reads and rewrites every record of the selected store, sealed under the current key. */
export async function runStoreRotateKey(ctx: CliContext, _input: Record<string, never>): Promise<void> {
  const opened = await openSpec(ctx, await selectedSpec(ctx));
  try {
    if (!opened.cipher) {
      throw new ConfigError(
        'No encryption key is configured: set MCP_OAUTH_ENCRYPTION_KEY (or store.encryption.key_file) to the new key, and the old one in MCP_OAUTH_ENCRYPTION_KEY_PREVIOUS.',
        { key: 'store.encryption' },
      );
    }
    const { rotateKey } = await import('../../../store/key-rotation.js');
    const report = await rotateKey(opened.store);
    if (ctx.json) {
      ctx.out.json({ store: opened.displayUrl, keyId: opened.cipher.currentKeyId, ...report });
      return;
    }
    ctx.out.result(
      `Re-encrypted ${report.rewritten} records of ${opened.displayUrl} under key ${opened.cipher.currentKeyId}.`,
    );
    ctx.out.note('Once every process runs with the new key, remove the previous key from its configuration.');
  } finally {
    await opened.store.close();
  }
}
