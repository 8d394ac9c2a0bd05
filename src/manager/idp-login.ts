import { randomUUID } from 'node:crypto';
import { type IdentityProviderConfig, loginTimeoutMs } from '../config/oauth-config.js';
import { LoginError } from '../errors.js';
import { openInBrowser } from '../oauth/browser.js';
import { CREDENTIAL_SCHEMA_VERSION, type CredentialRecord, versionOf } from '../store/credential-record.js';
import type { CredentialStore } from '../store/credential-store.js';
import { underCredentialLock } from './credential-lock.js';
import { idpKey, jwtExpiry } from './idp-assertion.js';
import type { LoginOptions } from './login-types.js';
import type { ManagerSettings } from './settings.js';
import { storedRecord } from './stored-record.js';

/** What `login --idp` reports: never the assertion itself. */
export interface IdpLoginOutcome {
  idp: string;
  issuer: string;
  /** ISO 8601 expiry of the identity assertion, or null when it does not say. */
  expiresAt: string | null;
}

/**
 * Signs in at an enterprise identity provider and stores its ID token as a credential of its own,
 * under (account, `idp:NAME`): one sign-in serves every server that trusts the IdP. One sign-in per
 * IdP across processes (the login lock); committed by compare-and-set under the credential lock,
 * so a failed sign-in keeps the previous assertion.
 */
export async function loginToIdentityProvider(
  settings: ManagerSettings,
  store: CredentialStore,
  idp: IdentityProviderConfig,
  options: LoginOptions = {},
): Promise<IdpLoginOutcome> {
  const key = idpKey(idp.name, settings.account);
  const timeoutMs = loginTimeoutMs({});
  const record = await store.withLock(
    key,
    async () => {
      const { runIdpLoginFlow } = await import('../oauth/idp-login-flow.js');
      const result = await runIdpLoginFlow({
        idp,
        flow: options.flow === 'paste' ? 'paste' : 'browser',
        fetchFn: settings.fetchFn,
        openBrowser: options.openBrowser ?? settings.openBrowser ?? openInBrowser,
        input: options.input,
        prompt: (p) => options.prompt?.({ ...p, server: key.server }),
        now: () => settings.clock.now(),
        timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const fresh: CredentialRecord = {
        schemaVersion: CREDENTIAL_SCHEMA_VERSION,
        recordId: randomUUID(),
        generation: 1,
        server: key.server,
        ...(key.account !== undefined ? { account: key.account } : {}),
        binding: { serverUrl: idp.issuer, issuer: idp.issuer, clientId: idp.clientId },
        client: result.client,
        tokens: {
          // The assertion is what this credential holds; it expires when the ID token does.
          accessToken: result.idToken,
          tokenType: 'Bearer',
          ...(result.refreshToken ? { refreshToken: result.refreshToken } : {}),
          expiresAt: jwtExpiry(result.idToken),
          obtainedAt: result.obtainedAt,
        },
        discovery: result.discovery,
        state: 'valid',
        updatedAt: settings.clock.now(),
      };
      return underCredentialLock(store, key, settings.lock, async () => {
        const existing = await storedRecord(store, key);
        const written = await store.put(key, fresh, existing ? versionOf(existing) : null);
        if (!written.ok)
          throw new LoginError(
            key.server,
            'the stored sign-in changed during the login; run the login again',
          );
        return fresh;
      });
    },
    { purpose: 'login', waitMs: timeoutMs },
  );
  const expiresAt = record.tokens?.expiresAt ?? null;
  return {
    idp: idp.name,
    issuer: idp.issuer,
    expiresAt: expiresAt === null ? null : new Date(expiresAt).toISOString(),
  };
}
