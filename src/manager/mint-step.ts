import { randomUUID } from 'node:crypto';
import { ConfigError, McpOAuthError } from '../errors.js';
import { RefreshFailure } from '../oauth/refresh-failure.js';
import { withTimeout } from '../oauth/timeout-fetch.js';
import {
  CREDENTIAL_SCHEMA_VERSION,
  type CredentialRecord,
  sameVersion,
  versionOf,
} from '../store/credential-record.js';
import { freshness } from './expiry.js';
import type { MintPlan, RefreshReason, TransactionContext, TransactionOutcome } from './transaction-types.js';
import { holdsGrant, REASONS } from './usability.js';

/**
 * The mint step of the refresh transaction, run holding the credential lock after the re-read:
 * adopt what another process minted meanwhile (the same rules as a refresh), else obtain a new
 * token through the server's TokenAcquisition and persist it by compare-and-set before anyone uses
 * it. A missing record is no reason for a login here: it is minted. A client the authorization
 * server refuses (`invalid_client`), an unreadable key file or workload token are ConfigErrors
 * naming the server and the key; transient failures throw RefreshFailure('transient') and change
 * nothing.
 */
export async function runMintStep(
  ctx: TransactionContext,
  plan: MintPlan,
  stored: CredentialRecord | undefined,
  reason: RefreshReason,
): Promise<TransactionOutcome> {
  const now = ctx.clock.now();
  if (holdsGrant(stored, ctx.serverUrl)) {
    if (reason.kind === 'expiry' && freshness(stored.tokens, now, ctx.skewMs) === 'fresh')
      return { kind: 'adopted', record: stored };
    if (reason.kind === 'rejected' && stored.tokens.accessToken !== reason.token)
      return { kind: 'adopted', record: stored };
    if (reason.kind === 'forced' && reason.basedOn && !sameVersion(versionOf(stored), reason.basedOn))
      return { kind: 'adopted', record: stored };
  }
  const { discover, issuerOf, resourceMismatch, resourceOf, trimDiscovery } = await import(
    '../oauth/discovery.js'
  );
  const server = ctx.key.server;
  // The stored discovery of this very server spares a round trip; anything else is learned afresh.
  let discovery = stored?.binding.serverUrl === ctx.serverUrl ? stored.discovery : undefined;
  if (!discovery?.authorizationServerMetadata) {
    try {
      discovery = await discover(ctx.serverUrl, { fetchFn: withTimeout(ctx.fetchFn, ctx.requestTimeoutMs) });
    } catch (error) {
      throw new RefreshFailure('transient', undefined, 'discovery failed', { cause: error });
    }
  }
  const mismatch = resourceMismatch(ctx.serverUrl, discovery);
  if (mismatch)
    throw new ConfigError(`MCP server '${server}': ${mismatch}; refusing to ask for a token for it.`, {
      server,
    });
  const issuer = issuerOf(discovery);
  if (plan.issuer && issuer !== plan.issuer)
    throw new ConfigError(
      `MCP server '${server}' names the authorization server ${issuer}, but oauth.issuer is ${plan.issuer}; its client credentials are never sent elsewhere.`,
      { server, key: 'oauth.issuer' },
    );
  const resource = resourceOf(ctx.serverUrl, discovery);
  let tokens: NonNullable<CredentialRecord['tokens']>;
  try {
    tokens = await plan.acquisition.mint({
      discovery,
      resource,
      scope: plan.scope,
      fetchFn: ctx.fetchFn,
      timeoutMs: ctx.requestTimeoutMs,
      now: () => ctx.clock.now(),
    });
  } catch (error) {
    throw mintError(server, plan, error);
  }
  await ctx.hooks?.afterRefreshResponse?.();
  const clientId = plan.acquisition.clientId;
  const base = stored && stored.binding.serverUrl === ctx.serverUrl ? stored : undefined;
  const next: CredentialRecord = {
    schemaVersion: CREDENTIAL_SCHEMA_VERSION,
    recordId: base?.recordId ?? randomUUID(),
    generation: (base?.generation ?? 0) + 1,
    server,
    ...(ctx.key.account !== undefined ? { account: ctx.key.account } : {}),
    binding: { serverUrl: ctx.serverUrl, resource, issuer, ...(clientId ? { clientId } : {}) },
    ...(clientId ? { client: { kind: 'preregistered', information: { client_id: clientId } } } : {}),
    tokens,
    discovery: trimDiscovery(discovery),
    state: 'valid',
    updatedAt: ctx.clock.now(),
  };
  const result = await ctx.store.put(ctx.key, next, stored ? versionOf(stored) : null);
  if (!result.ok) {
    if (holdsGrant(result.current, ctx.serverUrl)) return { kind: 'adopted', record: result.current };
    return { kind: 'needs_reauth', record: result.current, reason: REASONS.replacedDuringRefresh };
  }
  return { kind: 'refreshed', record: next };
}

/** A mint failure as the caller must see it: the fix named where there is one to make. */
function mintError(server: string, plan: MintPlan, error: unknown): unknown {
  if (error instanceof McpOAuthError) return error;
  if (error instanceof RefreshFailure) {
    if (error.kind !== 'terminal') return error;
    const code = error.oauthCode ?? 'an error';
    const clientRejected = code === 'invalid_client' || code === 'unauthorized_client';
    return new ConfigError(
      clientRejected
        ? `MCP server '${server}': the authorization server rejected the client (${code}); check ${plan.clientDescription} and that it is registered there.`
        : `MCP server '${server}': the authorization server refused to issue a token (${code}: ${error.message}); check ${plan.clientDescription} and oauth.scope.`,
      { server },
    );
  }
  const name = (error as Error)?.name;
  if (name === 'PrivateKeyFileError' || name === 'WorkloadTokenError')
    return new ConfigError(`MCP server '${server}': ${(error as Error).message}.`, {
      server,
      key: name === 'PrivateKeyFileError' ? 'oauth.private_key_file' : 'oauth.workload_token_file',
    });
  return error;
}
