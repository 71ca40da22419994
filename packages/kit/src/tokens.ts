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
/** Verification proofs have their own audience, so an access token never passes as a proof. */
export const PROOF_AUDIENCE = 'vtv-proof';

/** What a successful identity verification (PIN or face) was for (Art. 12, 18). */
export type ProofPurpose = 'CLAIM_VOUCHER' | 'USE_VOUCHER';

export interface VerificationProof {
  personId: string;
  purpose: ProofPurpose;
  /** The voucher (or template) the proof is bound to, when the purpose names one. */
  subject?: string;
  method: 'PIN' | 'FACE';
  /** Unique per proof; consumers mark it used to make a proof single-use. */
  jti: string;
  expiresAt: Date;
}
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

  /**
   * A short-lived, purpose-bound proof that the person just passed identity verification; other
   * subgraphs check it against the JWKS without calling identity.
   */
  async issueProof(req: ProofRequest, ttlSeconds = 300): Promise<string> {
    const key = this.keys[0]!;
    return new SignJWT({
      purpose: req.purpose,
      method: req.method,
      ...(req.subject ? { vsub: req.subject } : {}),
    })
      .setProtectedHeader({ alg: ALG, kid: key.kid, typ: 'vtv-proof+jwt' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(PROOF_AUDIENCE)
      .setSubject(req.personId)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(await importJWK(key.privateJwk, ALG));
  }
}

export interface ProofRequest {
  personId: string;
  purpose: ProofPurpose;
  subject?: string;
  method: VerificationProof['method'];
}

/** Verifies identity's tokens locally against its JWKS (cached; refetched when an unknown kid appears). */
export class TokenVerifier {
  private readonly getKey: JWTVerifyGetKey;

  /**
   * With a URL the key set is cached for `cacheMaxAgeMs`; a token whose kid is not in the cache makes
   * it refetch at once (rotation), but at most once per `cooldownMs`, so made-up kids cannot turn the
   * verifier into a flood of requests to identity.
   */
  constructor(
    source: { jwksUrl: string } | { jwks: { keys: JWK[] } },
    opts: { cacheMaxAgeMs?: number; cooldownMs?: number; timeoutMs?: number } = {},
  ) {
    this.getKey =
      'jwksUrl' in source
        ? createRemoteJWKSet(new URL(source.jwksUrl), {
            cacheMaxAge: opts.cacheMaxAgeMs ?? 10 * 60_000,
            cooldownDuration: opts.cooldownMs ?? 30_000,
            timeoutDuration: opts.timeoutMs ?? 5_000,
          })
        : createLocalJWKSet(source.jwks);
  }

  async verify(token: string): Promise<Caller> {
    return (await this.verifyAccess(token)).caller;
  }

  /** Like `verify`, also returning when the token expires (epoch ms), for callers that cache results. */
  async verifyAccess(token: string): Promise<{ caller: Caller; expiresAt: number }> {
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        algorithms: [ALG],
      });
      const kind = payload.kind as Caller['kind'];
      if (!['person', 'staff', 'client'].includes(kind) || typeof payload.sub !== 'string')
        throw new Error('bad claims');
      if (typeof payload.exp !== 'number') throw new Error('no expiry');
      return {
        caller: {
          kind,
          id: payload.sub,
          regionCode: typeof payload.region === 'string' ? payload.region : undefined,
          permissions: Array.isArray(payload.perms)
            ? payload.perms.filter((p): p is string => typeof p === 'string')
            : [],
        },
        expiresAt: payload.exp * 1000,
      };
    } catch {
      throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Invalid or expired access token');
    }
  }

  /**
   * Checks a verification proof: signature, audience, expiry, that it belongs to `personId`, was
   * issued for `purpose` and, when given, for `subject`. Throws a DomainError naming what is wrong.
   */
  async verifyProof(
    token: string,
    expect: { personId: string; purpose: ProofPurpose; subject?: string },
  ): Promise<VerificationProof> {
    const refuse = (message: string) => new DomainError('IDENTITY_PROOF_INVALID', message, 'proof');
    if (typeof token !== 'string' || token.length > 4096)
      throw refuse('Identity verification proof is malformed');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        issuer: TOKEN_ISSUER,
        audience: PROOF_AUDIENCE,
        algorithms: [ALG],
        typ: 'vtv-proof+jwt',
      }));
    } catch {
      throw refuse('Identity verification proof is invalid or expired; verify again');
    }
    if (payload.sub !== expect.personId) throw refuse('Identity verification proof belongs to someone else');
    if (payload.purpose !== expect.purpose)
      throw refuse(`Identity verification proof is not for ${expect.purpose}`);
    if (expect.subject !== undefined && payload.vsub !== expect.subject) {
      throw refuse('Identity verification proof was issued for another voucher');
    }
    return {
      personId: payload.sub,
      purpose: expect.purpose,
      subject: typeof payload.vsub === 'string' ? payload.vsub : undefined,
      method: payload.method === 'FACE' ? 'FACE' : 'PIN',
      jti: String(payload.jti),
      expiresAt: new Date((payload.exp ?? 0) * 1000),
    };
  }
}
