import {
  CorruptCredentialError,
  LeaseLostError,
  NewerSchemaError,
  StoreUnavailableError,
} from '../errors.js';
import { RefreshFailure } from '../oauth/refresh-failure.js';
import { withTimeout } from '../oauth/timeout-fetch.js';
import {
  type CredentialRecord,
  type RecordVersion,
  sameVersion,
  versionOf,
} from '../store/credential-record.js';
import { underCredentialLock } from './credential-lock.js';
import { runMintStep } from './mint-step.js';
import type { RefreshReason, TransactionContext, TransactionOutcome } from './transaction-types.js';
import { checkCredential, holdsGrant, REASONS } from './usability.js';

export type {
  RefreshReason,
  TransactionContext,
  TransactionHooks,
  TransactionOutcome,
} from './transaction-types.js';

/**
 * The refresh transaction, the one path every refresh takes (docs/ARCHITECTURE.md):
 * cross-process lock → re-read → adopt what another process already did → refresh with its own
 * timeout → keep the old refresh token and scope when omitted → persist with compare-and-set
 * before anyone uses the new token. `invalid_grant` marks the record `needs_reauth` by
 * compare-and-set on the version that failed; transient failures change nothing and throw
 * RefreshFailure('transient'). In-process single-flight is the caller's (the manager's) job.
 */
export async function runRefreshTransaction(
  ctx: TransactionContext,
  reason: RefreshReason,
): Promise<TransactionOutcome> {
  const body = async (): Promise<TransactionOutcome> => {
    await ctx.hooks?.afterLock?.();
    let stored: CredentialRecord | undefined;
    try {
      stored = await ctx.store.get(ctx.key);
    } catch (error) {
      if (error instanceof CorruptCredentialError || error instanceof NewerSchemaError) {
        return { kind: 'needs_reauth', record: undefined, reason: error.message };
      }
      throw error;
    }
    // Minting is another kind of refresh: same lock, same re-read, same compare-and-set.
    if (ctx.mint) return runMintStep(ctx, ctx.mint, stored, reason);
    const check = checkCredential(stored, {
      serverUrl: ctx.serverUrl,
      now: ctx.clock.now(),
      skewMs: ctx.skewMs,
    });
    if (!check.ok) return { kind: 'needs_reauth', record: stored, reason: check.reason };
    const current = check.record;
    // Adopt: another process (or an earlier flight) already did what we came to do.
    if (reason.kind === 'expiry' && check.freshness === 'fresh') return { kind: 'adopted', record: current };
    if (reason.kind === 'rejected' && check.tokens.accessToken !== reason.token)
      return { kind: 'adopted', record: current };
    if (reason.kind === 'forced' && reason.basedOn && !sameVersion(versionOf(current), reason.basedOn)) {
      return { kind: 'adopted', record: current };
    }
    const refreshToken = check.tokens.refreshToken;
    if (check.refreshBlocker || !refreshToken || !current.client) {
      return markNeedsReauth(ctx, current, check.refreshBlocker ?? REASONS.noRefreshToken);
    }

    // The protocol steps (and the MCP SDK under them) load only when a request is really sent:
    // status, token and every adopting caller never pay for them.
    const [{ discover, issuerOf, resourceMismatch, resourceOf, trimDiscovery }, { refreshTokens }] =
      await Promise.all([import('../oauth/discovery.js'), import('../oauth/token-refresh.js')]);
    let discovery = current.discovery;
    if (!discovery?.authorizationServerMetadata) {
      // Cold load without metadata (split-origin servers): learn the real token endpoint first,
      // instead of guessing `<server>/token`.
      try {
        discovery = await discover(ctx.serverUrl, {
          fetchFn: withTimeout(ctx.fetchFn, ctx.requestTimeoutMs),
        });
      } catch (error) {
        throw new RefreshFailure('transient', undefined, 'discovery failed', { cause: error });
      }
      const mismatch = resourceMismatch(ctx.serverUrl, discovery);
      if (mismatch) return markNeedsReauth(ctx, current, mismatch);
      if (current.binding.issuer && issuerOf(discovery) !== current.binding.issuer) {
        return markNeedsReauth(ctx, current, REASONS.otherIssuer(issuerOf(discovery)));
      }
    }
    const resource = current.binding.resource ?? resourceOf(ctx.serverUrl, discovery);

    // Fencing guards the store, not the authorization server: a holder whose lease ran out (a long
    // pause) must not present a refresh token the next holder may present too. Checked (and the
    // lease extended to cover the request) at the last moment before sending.
    await ctx.hooks?.beforeRefreshRequest?.();
    try {
      await ctx.store.assertLease?.(ctx.key, ctx.requestTimeoutMs);
    } catch (error) {
      throw new RefreshFailure('transient', undefined, 'the lock was lost before the refresh request', {
        cause: error,
      });
    }

    let tokens: CredentialRecord['tokens'];
    try {
      tokens = await refreshTokens({
        discovery,
        client: current.client,
        previous: { ...check.tokens, refreshToken },
        resource,
        fetchFn: ctx.fetchFn,
        timeoutMs: ctx.requestTimeoutMs,
        now: () => ctx.clock.now(),
      });
    } catch (error) {
      if (error instanceof RefreshFailure && error.kind === 'terminal') {
        ctx.logger.warn(
          `Refresh rejected for '${current.server}' (${error.oauthCode}); a new login is needed`,
        );
        // A rejected client is registered again at the next login instead of being replayed.
        const clientRejected =
          error.oauthCode === 'invalid_client' || error.oauthCode === 'unauthorized_client';
        const failed = clientRejected
          ? { ...current, client: { ...current.client, rejectedAt: ctx.clock.now() } }
          : current;
        return markNeedsReauth(ctx, failed, REASONS.rejectedBy(error.oauthCode), versionOf(current));
      }
      // The server answered 200 and rotated the grant, but the rest of the response was refused:
      // keep the rotated refresh token first, or the next refresh replays the old one (reuse).
      if (error instanceof RefreshFailure && error.rotatedRefreshToken) {
        await keepRotatedRefreshToken(ctx, current, error.rotatedRefreshToken);
      }
      throw error;
    }
    await ctx.hooks?.afterRefreshResponse?.();

    const next: CredentialRecord = {
      ...current,
      generation: current.generation + 1,
      tokens,
      // Only the metadata fields the code uses: an older record's verbatim copy shrinks here.
      discovery: trimDiscovery(discovery),
      updatedAt: ctx.clock.now(),
    };
    const result = await ctx.store.put(ctx.key, next, versionOf(current));
    if (!result.ok) {
      // A newer credential (a login or logout elsewhere) won; never overwrite it.
      if (holdsGrant(result.current, ctx.serverUrl)) return { kind: 'adopted', record: result.current };
      return {
        kind: 'needs_reauth',
        record: result.current,
        reason: REASONS.replacedDuringRefresh,
      };
    }
    return { kind: 'refreshed', record: next };
  };
  try {
    return await underCredentialLock(ctx.store, ctx.key, ctx.lock, body);
  } catch (error) {
    // A shared store unreachable now, or a lease lost to a pause: nothing was written; retry later.
    if (error instanceof StoreUnavailableError || error instanceof LeaseLostError) {
      throw new RefreshFailure('transient', undefined, error.message, { cause: error });
    }
    throw error;
  }
}

/**
 * Persists a refresh token the server rotated in a response that was otherwise refused, keeping
 * the current (expired) access token, so the next refresh presents the token the server now
 * expects. Compare-and-set on the version the refresh was based on; if another process replaced
 * the record meanwhile, its record wins and nothing is written. The refusal is still thrown.
 */
async function keepRotatedRefreshToken(
  ctx: TransactionContext,
  current: CredentialRecord,
  refreshToken: string,
): Promise<void> {
  if (!current.tokens) return;
  const next: CredentialRecord = {
    ...current,
    generation: current.generation + 1,
    tokens: { ...current.tokens, refreshToken },
    updatedAt: ctx.clock.now(),
  };
  const result = await ctx.store.put(ctx.key, next, versionOf(current));
  if (!result.ok) ctx.logger.warn(`The credential of '${current.server}' changed during a refused refresh`);
  else ctx.logger.warn(`Kept the rotated refresh token of '${current.server}' from a refused token response`);
}

/** Marks the version that failed as `needs_reauth`; a newer record (a new login) is left alone. */
async function markNeedsReauth(
  ctx: TransactionContext,
  failed: CredentialRecord,
  reason: string,
  expected: RecordVersion = versionOf(failed),
): Promise<TransactionOutcome> {
  const next: CredentialRecord = {
    ...failed,
    generation: failed.generation + 1,
    state: 'needs_reauth',
    reauthReason: reason,
    updatedAt: ctx.clock.now(),
  };
  const result = await ctx.store.put(ctx.key, next, expected);
  if (!result.ok) {
    if (holdsGrant(result.current, ctx.serverUrl)) return { kind: 'adopted', record: result.current };
    return { kind: 'needs_reauth', record: result.current, reason };
  }
  return { kind: 'needs_reauth', record: next, reason };
}
