import type { Command } from 'commander';
import type { Dispatch } from '../../runner.js';
import { registerStoreMigrate } from './migrate.js';
import { registerStoreRotateKey } from './rotate-key.js';
import { registerStoreStatus } from './status.js';

/** `mcp-oauth store ...`: the credential store itself (status, migrate, rotate-key). */
export function registerStore(program: Command, dispatch: Dispatch): void {
  const store = program
    .command('store')
    .description('the credential store: status, migrate to another store, rotate the encryption key')
    .addHelpText(
      'after',
      `
The store is file (the home folder) unless MCP_OAUTH_STORE or store.url in config.yaml names a
redis:// or rediss:// URL.

Examples:
  $ mcp-oauth store status
  $ mcp-oauth store migrate --to rediss://user:pass@redis.example.com:6380/0
  $ mcp-oauth store rotate-key`,
    );
  registerStoreStatus(store, dispatch);
  registerStoreMigrate(store, dispatch);
  registerStoreRotateKey(store, dispatch);
}
