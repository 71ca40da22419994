import type { Cache } from '@vtv/cache';
import { DomainError, ErrorCode, type Caller, type ProofPurpose, type TokenIssuer } from '@vtv/kit';
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../data/repositories';
import { FaceError, type FaceAssertionVerifier } from '../security/face-assertions';
import type { Actor } from './audit';
import type { PinService } from './pins';
import { notFound } from './scope';

export const PROOF_PURPOSES: readonly ProofPurpose[] = ['CLAIM_VOUCHER', 'USE_VOUCHER'];

const SUBJECT_RE = /^[A-Za-z0-9_.:-]{1,100}$/;
const NONCE_RE = /^[A-Za-z0-9_-]{16,128}$/;

export interface VerifyInput {
  purpose: ProofPurpose;
  /** The voucher (or template) the proof is for. */
  subject?: string | null;
  pin?: string | null;
  faceAssertion?: string | null;
}

export interface Proof {
  proof: string;
  expiresAt: Date;
  method: 'PIN' | 'FACE';
}

export interface VerificationOptions {
  proofTtlSeconds: number;
  faceChallengeTtlSeconds: number;
}

function requirePerson(caller: Caller): string {
  if (caller.kind !== 'person' || !caller.id) {
    throw new DomainError(ErrorCode.UNAUTHENTICATED, 'Sign in with your e-SSC first');
  }
  return caller.id;
}

function checkPurpose(purpose: unknown, subject: unknown): { purpose: ProofPurpose; subject: string | null } {
  if (!PROOF_PURPOSES.includes(purpose as ProofPurpose)) {
    throw new DomainError(ErrorCode.BAD_USER_INPUT, 'Unknown verification purpose', 'purpose');
  }
  if (subject != null && (typeof subject !== 'string' || !SUBJECT_RE.test(subject))) {
    throw new DomainError(
      ErrorCode.BAD_USER_INPUT,
      'The subject must be a voucher or template id',
      'subject',
    );
  }
  return { purpose: purpose as ProofPurpose, subject: (subject as string | null) ?? null };
}

/**
 * Identity verification before claiming and using vouchers (Art. 12, 18): the e-SSC PIN or a face-
 * verification assertion from the provider. Success yields a short-lived proof bound to the person, the
 * purpose and (optionally) the voucher; other subgraphs check it against identity's JWKS.
 */
export class VerificationService {
  constructor(
    private readonly store: Store,
    private readonly pins: PinService,
    private readonly face: FaceAssertionVerifier | null,
    private readonly cache: Cache,
    private readonly tokens: TokenIssuer,
    private readonly o: VerificationOptions,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  hasPin(personId: string): Promise<boolean> {
    return this.pins.hasPin(personId);
  }

  /** A single-use nonce for the provider's face check, bound to the person, purpose and subject. */
  async startFaceVerification(
    caller: Caller,
    input: { purpose: ProofPurpose; subject?: string | null },
  ): Promise<{ nonce: string; expiresAt: Date }> {
    const personId = requirePerson(caller);
    if (!this.face) {
      throw new DomainError(FaceError.UNAVAILABLE, 'Face verification is not available; use the e-SSC PIN');
    }
    const { purpose, subject } = checkPurpose(input.purpose, input.subject);
    const nonce = randomBytes(24).toString('base64url');
    const expiresAt = new Date(this.clock().getTime() + this.o.faceChallengeTtlSeconds * 1000);
    await this.store.transaction((r) =>
      r.faceChallenges.insert({ nonce, personId, purpose, subject, expiresAt }),
    );
    return { nonce, expiresAt };
  }

  async verify(caller: Caller, input: VerifyInput, actor: Actor): Promise<Proof> {
    const personId = requirePerson(caller);
    const { purpose, subject } = checkPurpose(input.purpose, input.subject);
    const hasPin = input.pin != null;
    const hasFace = input.faceAssertion != null;
    if (hasPin === hasFace) {
      throw new DomainError(
        ErrorCode.BAD_USER_INPUT,
        'Give either the PIN or a face-verification assertion',
        'pin',
      );
    }
    const person = await this.store.read.people.byId(personId);
    if (!person) throw notFound('Person');
    let method: Proof['method'];
    if (hasPin) {
      await this.pins.check(personId, input.pin, actor, person.regionCode, 'pin');
      method = 'PIN';
    } else {
      await this.checkFace(personId, purpose, subject, input.faceAssertion!);
      method = 'FACE';
    }
    const ttl = this.o.proofTtlSeconds;
    const proof = await this.tokens.issueProof(
      { personId, purpose, method, ...(subject ? { subject } : {}) },
      ttl,
    );
    return { proof, expiresAt: new Date(this.clock().getTime() + ttl * 1000), method };
  }

  private async checkFace(personId: string, purpose: ProofPurpose, subject: string | null, token: string) {
    if (!this.face) {
      throw new DomainError(FaceError.UNAVAILABLE, 'Face verification is not available; use the e-SSC PIN');
    }
    const assertion = await this.face.verify(token);
    const invalidNonce = (message: string) =>
      new DomainError(FaceError.NONCE_INVALID, message, 'faceAssertion');
    if (assertion.subject !== personId) {
      throw new DomainError(
        FaceError.INVALID,
        'The face-verification assertion is about someone else',
        'faceAssertion',
      );
    }
    if (!NONCE_RE.test(assertion.nonce)) throw invalidNonce('The face-verification nonce is not one of ours');
    const replayed = () =>
      new DomainError(
        FaceError.NONCE_REPLAYED,
        'This face-verification result was already used; verify again',
        'faceAssertion',
      );

    // Fast gate in Redis; the database consumption below is the final word (also after Redis loses keys).
    const gateKey = `face-nonce:${createHash('sha256').update(assertion.nonce).digest('base64url')}`;
    const first = await this.cache
      .setIfAbsent(gateKey, '1', (this.o.faceChallengeTtlSeconds + 60) * 1000)
      .catch(() => true);
    if (!first) throw replayed();

    let challenge;
    try {
      challenge = await this.store.transaction((r) => r.faceChallenges.consume(assertion.nonce));
    } catch (err) {
      // Not consumed after all: let a retry through the gate.
      await this.cache.del(gateKey).catch(() => undefined);
      throw err;
    }
    if (!challenge) throw invalidNonce('The face-verification nonce is not one of ours');
    if (challenge.usedAt) throw replayed();
    if (challenge.expiresAt <= this.clock()) {
      throw invalidNonce('The face-verification challenge has expired; start again');
    }
    if (challenge.personId !== personId || challenge.purpose !== purpose || challenge.subject !== subject) {
      throw invalidNonce('The face-verification challenge was started for another purpose');
    }
    if (!assertion.passed) {
      throw new DomainError(
        FaceError.NOT_MATCHED,
        'The face did not match; try again or use the e-SSC PIN',
        'faceAssertion',
      );
    }
  }
}
