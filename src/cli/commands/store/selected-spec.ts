import { existsSync } from 'node:fs';
import { ensureHome } from '../../../home-folder.js';
import type { OpenedStore } from '../../../store/open-store.js';
import type { StoreSpec } from '../../../store/store-spec.js';
import type { CliContext } from '../../context.js';

/** The store this home's config.yaml and the command's environment select (MCP_OAUTH_STORE first). */
export async function selectedSpec(ctx: CliContext, url?: string): Promise<StoreSpec> {
  if (existsSync(ctx.home)) await ensureHome(ctx.home);
  const { loadConfig } = await import('../../../config/config-file.js');
  const { storeSpecOf, STORE_ENV } = await import('../../../store/store-spec.js');
  const settings = (await loadConfig(ctx.home, ctx.io.env)).store;
  // `--from`/`--to` take the place of MCP_OAUTH_STORE; prefix and encryption stay the configured ones.
  return storeSpecOf(settings, url === undefined ? ctx.io.env : { ...ctx.io.env, [STORE_ENV]: url });
}

/** Opens `spec` with the home's keys (the Redis client is loaded only for a redis:// store). */
export async function openSpec(ctx: CliContext, spec: StoreSpec): Promise<OpenedStore> {
  const { openStore } = await import('../../../store/open-store.js');
  return openStore(spec, { home: ctx.home, env: ctx.io.env, logger: ctx.logger });
}
