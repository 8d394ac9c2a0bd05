import { randomBytes, randomUUID } from 'node:crypto';
import type { CredentialRecord } from '../src/index.js';

/**
 * A valid-looking credential record for a server that was never logged in to: a real record (from
 * a real login against the test kit) re-bound to `serverUrl`, with a new record id, fresh random
 * tokens of the same lengths and an expiry `lifetimeMs` from `now`. Same shape and size as the real
 * thing, so loading a thousand of them costs what loading a thousand real ones would.
 */
export function cloneRecordFor(
  template: CredentialRecord,
  server: string,
  serverUrl: string,
  now: number,
  lifetimeMs = 3600_000,
): CredentialRecord {
  const tokens = template.tokens!;
  const sameLength = (value: string) =>
    randomBytes(Math.ceil((value.length * 3) / 4))
      .toString('base64url')
      .slice(0, value.length);
  const { account: _account, reauthReason: _reason, ...rest } = template;
  return {
    ...rest,
    recordId: randomUUID(),
    generation: 1,
    server,
    binding: { ...template.binding, serverUrl, resource: serverUrl },
    tokens: {
      ...tokens,
      accessToken: sameLength(tokens.accessToken),
      ...(tokens.refreshToken ? { refreshToken: sameLength(tokens.refreshToken) } : {}),
      expiresAt: now + lifetimeMs,
      obtainedAt: now,
    },
    state: 'valid',
    updatedAt: now,
  };
}
