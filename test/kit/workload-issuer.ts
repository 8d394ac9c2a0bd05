import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JSONWebKeySet, SignJWT } from 'jose';
import type { TrustedIssuer } from './jwt-bearer-grant.js';

/** A platform that hands workloads JWTs (Kubernetes service account tokens, CI OIDC tokens). */
export interface WorkloadIssuer {
  issuer: string;
  jwks: JSONWebKeySet;
  /** What the kit authorization server's `trustedWorkloadIssuers` takes. */
  trustedIssuer: TrustedIssuer;
  /**
   * A fresh workload JWT (new `jti` each time): `aud` the authorization server's issuer, `sub`
   * default `system:serviceaccount:ci:agent`, lifetime default 600 s (negative: already expired).
   */
  mint(options: { audience: string; subject?: string; ttlSeconds?: number }): Promise<string>;
}

/**
 * A workload token issuer without a server (the kit authorization server is given its keys, as the
 * conformance `wif-jwt-bearer` scenario's is): ES256 keys made with `jose`.
 */
export async function createWorkloadIssuer(issuer = 'https://workload-issuer.test'): Promise<WorkloadIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = 'kit-workload-es256';
  const jwks: JSONWebKeySet = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  return {
    issuer,
    jwks,
    trustedIssuer: { issuer, jwks },
    async mint({ audience, subject = 'system:serviceaccount:ci:agent', ttlSeconds = 600 }) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid })
        .setIssuer(issuer)
        .setSubject(subject)
        .setAudience(audience)
        .setIssuedAt(now)
        .setExpirationTime(now + ttlSeconds)
        .setJti(randomUUID())
        .sign(privateKey);
    },
  };
}
