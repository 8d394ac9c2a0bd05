import { StoreError } from '../errors.js';
import { STORE_ENV } from './store-spec.js';

/**
 * This process's credential store was moved to another store (`mcp-oauth store migrate`) and the
 * process cannot follow it (the new URL needs a password this store does not keep), or the move
 * is still under way. Nothing was refreshed from the old store, so no refresh token the new
 * store holds was spent.
 */
export class StoreMovedError extends StoreError {
  /** The new store's URL without its password. */
  readonly to: string;
  constructor(to: string, phase: 'moving' | 'moved') {
    super(
      phase === 'moving'
        ? `The credential store is being moved to ${to}; no refresh is made from the old store meanwhile. Retry when the move is done (mcp-oauth store migrate).`
        : `The credential store was moved to ${to}; this process refuses to refresh from the old store. Set ${STORE_ENV} to the new store's URL (or store.url in config.yaml) and restart it.`,
    );
    this.to = to;
  }
}
