import { TokenIssuer, TokenVerifier, generateSigningKey } from './tokens';

describe('access tokens and verification proofs', () => {
  let issuer: TokenIssuer;
  let verifier: TokenVerifier;
  const personId = '01900000-0000-7000-8000-000000000001';

  beforeAll(async () => {
    issuer = new TokenIssuer([await generateSigningKey()]);
    verifier = new TokenVerifier({ jwks: issuer.jwks() });
  });

  it('verifies an access token into a caller', async () => {
    const token = await issuer.issue({ kind: 'staff', id: 's1', regionCode: '420100', permissions: ['a'] });
    await expect(verifier.verify(token)).resolves.toEqual({
      kind: 'staff',
      id: 's1',
      regionCode: '420100',
      permissions: ['a'],
    });
  });

  it('refuses a token signed by another key (rotation: unknown kid)', async () => {
    const other = new TokenIssuer([await generateSigningKey()]);
    const token = await other.issue({ kind: 'person', id: personId, permissions: [] });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('accepts a proof only for its person, purpose and voucher', async () => {
    const proof = await issuer.issueProof({
      personId,
      purpose: 'USE_VOUCHER',
      subject: 'v1',
      method: 'FACE',
    });
    await expect(
      verifier.verifyProof(proof, { personId, purpose: 'USE_VOUCHER', subject: 'v1' }),
    ).resolves.toMatchObject({
      personId,
      method: 'FACE',
      subject: 'v1',
    });
    await expect(
      verifier.verifyProof(proof, { personId: 'someone-else', purpose: 'USE_VOUCHER' }),
    ).rejects.toMatchObject({
      code: 'IDENTITY_PROOF_INVALID',
    });
    await expect(verifier.verifyProof(proof, { personId, purpose: 'CLAIM_VOUCHER' })).rejects.toThrow(
      'not for CLAIM_VOUCHER',
    );
    await expect(
      verifier.verifyProof(proof, { personId, purpose: 'USE_VOUCHER', subject: 'v2' }),
    ).rejects.toThrow('another voucher');
  });

  it('never takes an access token as a proof, nor a proof as an access token', async () => {
    const access = await issuer.issue({ kind: 'person', id: personId, permissions: [] });
    await expect(verifier.verifyProof(access, { personId, purpose: 'CLAIM_VOUCHER' })).rejects.toMatchObject({
      code: 'IDENTITY_PROOF_INVALID',
    });
    const proof = await issuer.issueProof({ personId, purpose: 'CLAIM_VOUCHER', method: 'PIN' });
    await expect(verifier.verify(proof)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
