import { OAuthManager } from './oauth-manager.js';
import type { OAuthManagerOptions } from './settings.js';

let instance: OAuthManager | undefined;

/** The process-wide manager; `options` apply only on the first call. */
export function getManager(options?: OAuthManagerOptions): OAuthManager {
  instance ??= new OAuthManager(options);
  return instance;
}

/** Test helper: closes and drops the process-wide manager so each test starts clean. */
export async function resetManagerForTests(): Promise<void> {
  const current = instance;
  instance = undefined;
  await current?.close();
}
