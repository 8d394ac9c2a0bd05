import {
  type ClientAuthentication,
  type MintInput,
  requestMintedToken,
  type TokenAcquisition,
} from './token-acquisition.js';

/** RFC 7523 §2.1: the grant type of a JWT presented as an authorization grant. */
export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/**
 * The JWT bearer grant: an assertion (a workload's platform JWT, or an ID-JAG from the company's
 * IdP) presented at the token endpoint, with the client's own authentication when it has one.
 * `assertion()` is asked afresh at every mint: a workload token file is rotated by its platform,
 * an ID-JAG is single-use and short-lived.
 *
 * @see [RFC 7523 §2.1. Using JWTs as Authorization Grants](https://www.rfc-editor.org/rfc/rfc7523.html#section-2.1)
 */
export class JwtBearerGrant implements TokenAcquisition {
  constructor(
    private readonly client: ClientAuthentication,
    private readonly assertion: (input: MintInput) => Promise<string>,
  ) {}

  get clientId(): string | undefined {
    return this.client.clientId;
  }

  async mint(input: MintInput) {
    const assertion = await this.assertion(input);
    const params = new URLSearchParams({ grant_type: JWT_BEARER_GRANT_TYPE, assertion });
    return requestMintedToken(input, this.client, params);
  }
}
