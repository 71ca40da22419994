export type { JWK } from 'jose';
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
} from 'jose';
import { randomUUID } from 'node:crypto';
import type { Caller } from './caller';
import { DomainError, ErrorCode } from './errors';

export const TOKEN_ISSUER = 'vtv-identity';
export const TOKEN_AUDIENCE = 'vtv-graph';
const ALG = 'ES256';

interface Claims {
  kind: Caller['kind'];
  region?: string;
  perms?: string[];
}

export interface SigningKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

/** A fresh ES256 key; identity generates one in development when none is configured. */
export async function generateSigningKey(kid = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: 'sig' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' };
  return { kid, privateJwk, publicJwk };
}

/**
 * Issues access tokens with the newest key and publishes every key still valid for verification,
 * so keys rotate without invalidating tokens already out.
 */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKey[],
    private readonly ttlSeconds = 900,
  ) {
    if (keys.length === 0) throw new Error('TokenIssuer needs at least one key');
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  async issue(caller: Caller & { id: string }, ttlSeconds = this.ttlSeconds): Promise<string> {
    const key = this.keys[0]!;
    const claims: Claims = { kind: caller.kind, perms: caller.permissions };
    if (caller.regionCode) claims.region = caller.regionCode;
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(caller.id)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(await importJWK(key.privateJwk, ALG));
  }
}

/** Verifies identity's tokens locally against its JWKS (cached; refetched when an unknown kid appears). */
export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  constructor(source: { jwksUrl: string } | { jwks: { keys: JWK[] } }) {
    this.getKey =
      'jwksUrl' in source
        ? createRemoteJWKSet(new URL(source.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 })
        : createLocalJWKSet(source.jwks);
  }

  async verify(token: string): Promise<Caller> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms: [ALG],
      });
      const kind = payload.kind as Caller['kind'];
      if (!['person', 'staff', 'client'].includes(kind) || typeof payload.sub !== 'string')
        throw new Error('bad claims');
      return {
        kind,
        id: payload.sub,
        regionCode: typeof payload.region === 'string' ? payload.region : undefined,
        permissions: Array.isArray(payload.perms)
          ? payload.perms.filter((p): p is string => typeof p === 'string')
          : [],
      };
    } catch {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired access token');
    }
  }
}
