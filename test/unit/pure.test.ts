import { OAuthError } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { redact, redactText } from '../../src/logger.js';
import { isLoopbackHost, isSecureOrLoopback } from '../../src/loopback.js';
import { freshness, skewFor } from '../../src/manager/expiry.js';
import { mayPromptImplicitly } from '../../src/manager/interactivity.js';
import { stateOf } from '../../src/manager/server-status.js';
import { selectScope } from '../../src/oauth/scope-selection.js';
import { classifyRefreshError, tokensFromResponse } from '../../src/oauth/token-refresh.js';

describe('tokensFromResponse (RFC 6749 §6)', () => {
  const previous = {
    accessToken: 'old',
    tokenType: 'Bearer',
    refreshToken: 'rt-old',
    scope: 'a b',
    expiresAt: 1,
    obtainedAt: 0,
  };
  it('keeps the old refresh token and scope when the response omits them', () => {
    const t = tokensFromResponse(
      { access_token: 'new', token_type: 'Bearer', expires_in: 60 },
      1_000,
      previous,
    );
    expect(t).toEqual({
      accessToken: 'new',
      tokenType: 'Bearer',
      refreshToken: 'rt-old',
      scope: 'a b',
      expiresAt: 61_000,
      obtainedAt: 1_000,
    });
  });
  it('takes the rotated refresh token and new scope, and null expiry without expires_in', () => {
    const t = tokensFromResponse(
      { access_token: 'n', token_type: 'Bearer', refresh_token: 'rt-new', scope: 'a' },
      5,
      previous,
    );
    expect(t.refreshToken).toBe('rt-new');
    expect(t.scope).toBe('a');
    expect(t.expiresAt).toBeNull();
  });
});

describe('refresh error classification', () => {
  it('invalid_grant and client rejections are terminal; server_error, network and timeouts are transient', () => {
    expect(classifyRefreshError(new OAuthError('invalid_grant', 'x')).kind).toBe('terminal');
    expect(classifyRefreshError(new OAuthError('invalid_client', 'x')).kind).toBe('terminal');
    expect(classifyRefreshError(new OAuthError('server_error', 'x')).kind).toBe('transient');
    expect(classifyRefreshError(new OAuthError('temporarily_unavailable', 'x')).kind).toBe('transient');
    expect(classifyRefreshError(new TypeError('fetch failed')).kind).toBe('transient');
    const timeout = new DOMException('timed out', 'TimeoutError');
    expect(classifyRefreshError(timeout).message).toBe('timed out');
  });
});

describe('expiry policy', () => {
  const tokens = (obtainedAt: number, expiresAt: number | null) => ({
    accessToken: 'a',
    tokenType: 'Bearer',
    obtainedAt,
    expiresAt,
  });
  it('the skew is the configured one, at most half the lifetime', () => {
    expect(skewFor(tokens(0, 3600_000), 60_000)).toBe(60_000);
    expect(skewFor(tokens(0, 10_000), 60_000)).toBe(5_000);
    expect(skewFor(tokens(0, null), 60_000)).toBe(0);
  });
  it('fresh, expiring inside the skew, expired at expiry; no expiry means fresh', () => {
    const t = tokens(0, 3600_000);
    expect(freshness(t, 3600_000 - 60_001, 60_000)).toBe('fresh');
    expect(freshness(t, 3600_000 - 60_000, 60_000)).toBe('expiring');
    expect(freshness(t, 3600_000, 60_000)).toBe('expired');
    expect(freshness(tokens(0, null), 9e15, 60_000)).toBe('fresh');
  });
  it('states for the API and JSON', () => {
    const base = {
      schemaVersion: 1 as const,
      recordId: 'r',
      generation: 1,
      server: 's',
      binding: { serverUrl: 'https://x' },
      updatedAt: 0,
    };
    expect(stateOf(undefined, 0, 0)).toBe('logged_out');
    expect(stateOf({ ...base, state: 'valid' }, 0, 0)).toBe('logged_out');
    expect(stateOf({ ...base, state: 'needs_reauth', tokens: tokens(0, 10) }, 0, 0)).toBe('needs_reauth');
    expect(stateOf({ ...base, state: 'valid', tokens: tokens(0, 3600_000) }, 0, 60_000)).toBe('valid');
    expect(stateOf({ ...base, state: 'valid', tokens: tokens(0, 3600_000) }, 3600_000, 60_000)).toBe(
      'expired',
    );
  });
});

describe('loopback', () => {
  it('means 127.0.0.0/8, ::1 and localhost, nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '127.255.255.255', 'localhost', 'LOCALHOST', '::1', '[::1]'])
      expect(isLoopbackHost(h)).toBe(true);
    for (const h of [
      '128.0.0.1',
      '127.0.0.256',
      '10.0.0.1',
      'localhost.example.com',
      '0.0.0.0',
      '::2',
      'example.com',
    ]) {
      expect(isLoopbackHost(h)).toBe(false);
    }
    expect(isSecureOrLoopback('http://127.0.0.1:9/x')).toBe(true);
    expect(isSecureOrLoopback('https://example.com')).toBe(true);
    expect(isSecureOrLoopback('http://example.com')).toBe(false);
  });
});

describe('redaction', () => {
  it('masks bearer values, JWTs, secret query parameters and secret-named fields at any depth', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    expect(redactText(`Authorization: Bearer abc.def-123 and ${jwt}`)).not.toMatch(/abc\.def-123|eyJzdWIi/);
    expect(redactText('http://127.0.0.1/cb?code=SECRETCODE&state=s')).toBe(
      'http://127.0.0.1/cb?code=[redacted]&state=s',
    );
    const out = JSON.stringify(
      redact({
        a: { refresh_token: 'rt', accessToken: 'at', client_secret: 'cs', nested: [{ password: 'p' }] },
        ok: 'fine',
      }),
    );
    expect(out).not.toMatch(/"rt"|"at"|"cs"|"p"/);
    expect(out).toContain('fine');
  });
});

describe('interactive', () => {
  it("'never' and 'always' are absolute; 'auto' is off in CI", () => {
    expect(mayPromptImplicitly('never')).toBe(false);
    expect(mayPromptImplicitly('always')).toBe(true);
    expect(mayPromptImplicitly('auto', { CI: 'true' })).toBe(false);
  });
});

describe('scope selection', () => {
  const discovery = (prmScopes?: string[], asScopes?: string[]) => ({
    authorizationServerUrl: 'https://as',
    resourceMetadata: prmScopes ? { resource: 'https://rs', scopes_supported: prmScopes } : undefined,
    authorizationServerMetadata: asScopes ? { issuer: 'https://as', scopes_supported: asScopes } : undefined,
  });
  it('configured, else challenge, else resource metadata, else none; offline_access only when the AS lists it', () => {
    expect(selectScope({ scope: 'x' }, discovery(['a'], ['offline_access']), 'c')).toBe('x offline_access');
    expect(selectScope({}, discovery(['a', 'b']), 'c')).toBe('c');
    expect(selectScope({}, discovery(['a', 'b']), undefined)).toBe('a b');
    expect(selectScope({}, discovery(undefined, ['openid']), undefined)).toBeUndefined();
  });
});
