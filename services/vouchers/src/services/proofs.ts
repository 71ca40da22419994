import { DomainError, ErrorCode, type ProofPurpose, type VerificationProof } from '@vtv/kit';
import type { Deps } from './context';

/** Identity verification (Art. 12, 18): a purpose-bound proof from identity, checked locally. */
export async function verifyProof(
  deps: Deps,
  proof: unknown,
  expect: { personId: string; purpose: ProofPurpose; subject?: string },
): Promise<VerificationProof> {
  if (!deps.tokens) {
    throw new DomainError(ErrorCode.UNAVAILABLE, 'Identity verification is not available', 'proof', true);
  }
  if (typeof proof !== 'string' || proof.length === 0)
    throw new DomainError('IDENTITY_PROOF_INVALID', 'An identity verification proof is required', 'proof');
  return deps.tokens.verifyProof(proof, expect);
}
