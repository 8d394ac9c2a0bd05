import type { Logger } from '../logger.js';
import type { CredentialKey } from './credential-store.js';

/** A store's change subscriber; each subscription is its own object, so one function may subscribe twice. */
export interface ChangeSubscription {
  listener: (key: CredentialKey) => void;
}

/**
 * Tells every subscriber that `key` changed, each with a fresh key object (a listener cannot
 * change what the next one sees). A listener that throws is logged and the others still run:
 * one broken host callback must not stop a process from hearing about a refresh.
 */
export function notifyChange(
  subscriptions: Set<ChangeSubscription>,
  key: CredentialKey,
  logger: Logger,
): void {
  for (const { listener } of [...subscriptions]) {
    try {
      listener(
        key.account === undefined ? { server: key.server } : { server: key.server, account: key.account },
      );
    } catch (error) {
      logger.warn('A credential change listener threw', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}
