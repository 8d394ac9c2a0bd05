import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  OAuthTokens,
} from '@modelcontextprotocol/client';

/**
 * The baseline: an in-memory OAuthClientProvider as a host writes it today, handed straight to
 * the SDK's transport, which then runs the SDK's own `auth()` on every 401 (no single-flight).
 */
export class InMemorySdkProvider implements OAuthClientProvider {
  redirects = 0;
  constructor(
    private stored: OAuthTokens | undefined,
    private readonly client: OAuthClientInformationMixed,
    private readonly discovery: OAuthDiscoveryState,
    private readonly redirect: string,
  ) {}
  get redirectUrl() {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      redirect_uris: [this.redirect],
      client_name: 'sdk-baseline',
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: OAuthTokens) {
    this.stored = tokens;
  }
  redirectToAuthorization() {
    this.redirects++;
  }
  saveCodeVerifier() {}
  codeVerifier(): string {
    throw new Error('no interactive flow in the benchmark');
  }
  discoveryState() {
    return this.discovery;
  }
  saveDiscoveryState() {}
  /** What hosts typically do on invalid_grant: drop the tokens (the SDK then starts a new authorization). */
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.stored = undefined;
  }
}
