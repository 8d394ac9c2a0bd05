import {
  type ClientAuthentication,
  type MintInput,
  requestMintedToken,
  type TokenAcquisition,
} from './token-acquisition.js';

/**
 * The client credentials grant (`oauth.grant: client_credentials`): the client authenticates with
 * its secret (`client_secret_basic`, `client_secret_post`) or a private key (`private_key_jwt`)
 * and receives a token for itself, with `scope` and `resource` as usual. No person, no refresh
 * token: a new token is minted when the last one expires.
 *
 * @see [RFC 6749 §4.4. Client Credentials Grant](https://www.rfc-editor.org/rfc/rfc6749.html#section-4.4)
 * @see [MCP extension io.modelcontextprotocol/oauth-client-credentials (SEP-1046)](https://github.com/modelcontextprotocol/modelcontextprotocol/pull/1046)
 */
export class ClientCredentialsGrant implements TokenAcquisition {
  constructor(private readonly client: ClientAuthentication) {}

  get clientId(): string | undefined {
    return this.client.clientId;
  }

  mint(input: MintInput) {
    return requestMintedToken(input, this.client, new URLSearchParams({ grant_type: 'client_credentials' }));
  }
}
