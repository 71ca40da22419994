import { DomainError, ErrorCode, jose } from '@vtv/kit';

export interface FaceProviderOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  algorithms: string[];
  maxAgeSeconds: number;
}

/** What a valid assertion says: who was verified, for which challenge, and the outcome. */
export interface FaceAssertion {
  subject: string;
  nonce: string;
  passed: boolean;
}

export const FaceError = {
  UNAVAILABLE: 'FACE_VERIFICATION_UNAVAILABLE',
  INVALID: 'FACE_ASSERTION_INVALID',
  EXPIRED: 'FACE_ASSERTION_EXPIRED',
  NONCE_INVALID: 'FACE_NONCE_INVALID',
  NONCE_REPLAYED: 'FACE_NONCE_REPLAYED',
  NOT_MATCHED: 'FACE_NOT_MATCHED',
} as const;

const MAX_ASSERTION_LENGTH = 8192;

/**
 * Verifies face-verification assertions: a JWT signed by the configured provider (the platform never
 * sees a face image). Checks the signature against the provider's JWKS (fetched and cached; refetched
 * when an unknown kid appears), the algorithm, issuer, audience, expiry and age, and that it carries a
 * subject, a nonce and a result. Whether the nonce is one of ours and still unused is the caller's job.
 */
export class FaceAssertionVerifier {
  private readonly jwks: jose.JWTVerifyGetKey;

  constructor(private readonly o: FaceProviderOptions) {
    this.jwks = jose.createRemoteJWKSet(new URL(o.jwksUrl), {
      cacheMaxAge: 10 * 60_000,
      cooldownDuration: 30_000,
      timeoutDuration: 5_000,
    });
  }

  async verify(assertion: string): Promise<FaceAssertion> {
    const invalid = (message: string) => new DomainError(FaceError.INVALID, message, 'faceAssertion');
    if (
      typeof assertion !== 'string' ||
      assertion.length > MAX_ASSERTION_LENGTH ||
      !assertion.includes('.')
    ) {
      throw invalid('The face-verification assertion is malformed');
    }
    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(assertion, this.jwks, {
        issuer: this.o.issuer,
        audience: this.o.audience,
        algorithms: this.o.algorithms,
        maxTokenAge: `${this.o.maxAgeSeconds}s`,
        requiredClaims: ['exp', 'iat', 'sub', 'nonce'],
        clockTolerance: 5,
      }));
    } catch (err) {
      if (err instanceof jose.errors.JWTExpired) {
        throw new DomainError(
          FaceError.EXPIRED,
          'The face-verification assertion has expired; verify again',
          'faceAssertion',
        );
      }
      if (err instanceof jose.errors.JWTClaimValidationFailed) {
        throw invalid(`The face-verification assertion's ${err.claim} claim is not acceptable`);
      }
      if (err instanceof jose.errors.JWKSTimeout || !(err instanceof jose.errors.JOSEError)) {
        // The provider's keys could not be fetched: not the caller's fault, and worth a retry.
        throw new DomainError(
          ErrorCode.UNAVAILABLE,
          'The face-verification provider cannot be reached; try again shortly',
          undefined,
          true,
        );
      }
      throw invalid('The face-verification assertion is not validly signed by the provider');
    }
    if (typeof payload.nonce !== 'string' || typeof payload.sub !== 'string') {
      throw invalid('The face-verification assertion lacks its subject or nonce');
    }
    if (payload.result !== 'PASS' && payload.result !== 'FAIL') {
      throw invalid('The face-verification assertion has no result');
    }
    return { subject: payload.sub, nonce: payload.nonce, passed: payload.result === 'PASS' };
  }
}
