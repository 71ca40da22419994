/**
 * Identity verification and sign-in against real PostgreSQL, Redis and a face-verification provider
 * served over real HTTP: PIN lockout with its retry time, face assertions (signature, audience, issuer,
 * expiry, single-use nonce) and the purpose-bound proofs other subgraphs verify with identity's JWKS.
 */
import { TokenVerifier, jose, uuidv7, type Caller } from '@vtv/kit';
import { createHash, randomBytes } from 'node:crypto';
import {
  issuePerson,
  person,
  startFaceProvider,
  startIdentity,
  syntheticIdNumber,
  type FakeFaceProvider,
  type Harness,
  type IssuedPerson,
} from './helpers';

let h: Harness;
let face: FakeFaceProvider;
let verifier: TokenVerifier;

beforeAll(async () => {
  face = await startFaceProvider();
  h = await startIdentity(
    {
      FACE_PROVIDER_JWKS_URL: face.jwksUrl,
      FACE_PROVIDER_ISSUER: face.issuer,
      FACE_PROVIDER_AUDIENCE: 'vtv-identity',
    },
    'identity_verify',
  );
  verifier = new TokenVerifier({ jwksUrl: new URL('/.well-known/jwks.json', h.running.url).toString() });
});

afterAll(async () => {
  await h?.stop();
  await face?.close();
});

const PIN = '482915';

const VERIFY = `mutation ($input: VerifyIdentityInput!) {
  verifyIdentity(input: $input) { proof expiresAt method retryAt errors { code message field } }
}`;
const SIGN_IN = `mutation ($input: SignInPersonInput!) {
  signInPerson(input: $input) { accessToken expiresAt retryAt errors { code message field } }
}`;
const START_FACE = `mutation ($input: StartFaceVerificationInput!) {
  startFaceVerification(input: $input) { nonce expiresAt errors { code field } }
}`;

interface VerifyResult {
  verifyIdentity: {
    proof: string | null;
    expiresAt: string | null;
    method: string | null;
    retryAt: string | null;
    errors: { code: string; message: string; field: string | null }[];
  };
}

const verify = (caller: Caller, input: Record<string, unknown>) =>
  h.gql<VerifyResult>(caller, VERIFY, { input: { purpose: 'USE_VOUCHER', ...input } });

describe('sign-in with the e-SSC PIN', () => {
  let someone: IssuedPerson;
  beforeAll(async () => {
    someone = await issuePerson(h, { pin: PIN });
  });

  test('the right PIN gives a person token the platform verifies locally', async () => {
    const res = await h.gql<{ signInPerson: { accessToken: string; expiresAt: string; errors: unknown[] } }>(
      null,
      SIGN_IN,
      { input: { idNumber: someone.idNumber, pin: PIN } },
    );
    expect(res.data.signInPerson.errors).toEqual([]);
    const caller = await verifier.verify(res.data.signInPerson.accessToken);
    expect(caller).toEqual({ kind: 'person', id: someone.id, regionCode: undefined, permissions: [] });
    expect(new Date(res.data.signInPerson.expiresAt).getTime()).toBeGreaterThan(Date.now() + 800_000);
  });

  test('an unknown number, a wrong PIN and no PIN at all answer the same', async () => {
    const unknown = await h.gql(null, SIGN_IN, { input: { idNumber: syntheticIdNumber(), pin: PIN } });
    const wrong = await h.gql(null, SIGN_IN, { input: { idNumber: someone.idNumber, pin: '102938' } });
    const noPin = await issuePerson(h, { pin: undefined });
    await h.running.deps.ds.query('DELETE FROM pin_credentials WHERE person_id = $1', [noPin.id]);
    const withoutPin = await h.gql(null, SIGN_IN, { input: { idNumber: noPin.idNumber, pin: PIN } });
    expect(unknown).toEqual(wrong);
    expect(withoutPin).toEqual(wrong);
    expect(wrong.data).toEqual({
      signInPerson: {
        accessToken: null,
        expiresAt: null,
        retryAt: null,
        errors: [{ code: 'SIGN_IN_FAILED', message: 'The ID number or PIN is incorrect', field: 'pin' }],
      },
    });
    // Reset the failure counter for the other tests.
    await h.running.deps.ds.query('UPDATE pin_credentials SET failed_attempts = 0 WHERE person_id = $1', [
      someone.id,
    ]);
  });
});

describe('PIN lockout', () => {
  test('five wrong PINs lock the PIN for 15 minutes, saying when to retry; the right PIN is refused meanwhile', async () => {
    const someone = await issuePerson(h, { pin: PIN });
    const me = person(someone.id);
    for (let left = 4; left >= 1; left -= 1) {
      const res = await verify(me, { pin: '135790' });
      expect(res.data.verifyIdentity.errors).toEqual([
        expect.objectContaining({
          code: 'PIN_INCORRECT',
          field: 'pin',
          message: expect.stringContaining(`${left} attempt`),
        }),
      ]);
      expect(res.data.verifyIdentity.proof).toBeNull();
    }
    const before = Date.now();
    const locked = await verify(me, { pin: '135790' });
    expect(locked.data.verifyIdentity.errors).toEqual([
      expect.objectContaining({ code: 'PIN_LOCKED', field: 'pin' }),
    ]);
    const retryAt = new Date(locked.data.verifyIdentity.retryAt!).getTime();
    expect(retryAt).toBeGreaterThanOrEqual(before + 900_000 - 2_000);
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 900_000 + 2_000);
    expect(locked.data.verifyIdentity.errors[0]!.message).toContain(locked.data.verifyIdentity.retryAt!);

    const right = await verify(me, { pin: PIN });
    expect(right.data.verifyIdentity).toMatchObject({
      proof: null,
      retryAt: locked.data.verifyIdentity.retryAt,
      errors: [expect.objectContaining({ code: 'PIN_LOCKED' })],
    });
    const signIn = await h.gql<{ signInPerson: { retryAt: string; errors: { code: string }[] } }>(
      null,
      SIGN_IN,
      {
        input: { idNumber: someone.idNumber, pin: PIN },
      },
    );
    expect(signIn.data.signInPerson.errors[0]!.code).toBe('PIN_LOCKED');
    expect(signIn.data.signInPerson.retryAt).toBe(locked.data.verifyIdentity.retryAt);

    const [audit] = await h.running.deps.ds.query(
      `SELECT action, target_id, details FROM audit_log WHERE action = 'PIN_LOCKED' AND target_id = $1`,
      [someone.id],
    );
    expect(audit.details).toMatchObject({ failedAttempts: 5 });

    // Once the lock has passed (moved into the past here rather than waiting 15 minutes), the PIN works again.
    await h.running.deps.ds.query(
      `UPDATE pin_credentials SET locked_until = now() - interval '1 second' WHERE person_id = $1`,
      [someone.id],
    );
    const after = await verify(me, { pin: PIN });
    expect(after.data.verifyIdentity).toMatchObject({ method: 'PIN', errors: [], retryAt: null });
  });

  test('concurrent guesses cannot exceed the budget', async () => {
    const someone = await issuePerson(h, { pin: PIN });
    const results = await Promise.all(
      Array.from({ length: 12 }, () => verify(person(someone.id), { pin: '246813' })),
    );
    const codes = results.map((r) => r.data.verifyIdentity.errors[0]!.code).sort();
    expect(codes.filter((c) => c === 'PIN_INCORRECT')).toHaveLength(4);
    expect(codes.filter((c) => c === 'PIN_LOCKED')).toHaveLength(8);
  });

  test('malformed PINs are refused without spending an attempt', async () => {
    const someone = await issuePerson(h, { pin: PIN });
    for (const pin of ['12345', 'abcdef', '1'.repeat(1000), '']) {
      const res = await verify(person(someone.id), { pin });
      expect(res.data.verifyIdentity.errors[0]).toMatchObject({ code: 'PIN_FORMAT', field: 'pin' });
    }
    const [row] = await h.running.deps.ds.query(
      'SELECT failed_attempts FROM pin_credentials WHERE person_id = $1',
      [someone.id],
    );
    expect(row.failed_attempts).toBe(0);
  });

  test('changing the PIN needs the current one', async () => {
    const someone = await issuePerson(h, { pin: PIN });
    const SET = `mutation ($input: SetPinInput!) { setPin(input: $input) { person { hasPin } retryAt errors { code field } } }`;
    const missing = await h.gql(person(someone.id), SET, { input: { newPin: '731946' } });
    expect(missing.data).toMatchObject({
      setPin: { errors: [{ code: 'BAD_USER_INPUT', field: 'currentPin' }] },
    });
    const wrong = await h.gql(person(someone.id), SET, { input: { currentPin: '000001', newPin: '731946' } });
    expect(wrong.data).toMatchObject({
      setPin: { errors: [{ code: 'PIN_INCORRECT', field: 'currentPin' }] },
    });
    const ok = await h.gql(person(someone.id), SET, { input: { currentPin: PIN, newPin: '731946' } });
    expect(ok.data).toEqual({ setPin: { person: { hasPin: true }, retryAt: null, errors: [] } });
    expect((await verify(person(someone.id), { pin: '731946' })).data.verifyIdentity.errors).toEqual([]);
  });
});

describe('verification proofs', () => {
  test('bound to the person, the purpose and the voucher; checked by others without calling identity', async () => {
    const someone = await issuePerson(h, { pin: PIN });
    const voucherId = uuidv7();
    const res = await verify(person(someone.id), { pin: PIN, subject: voucherId });
    expect(res.data.verifyIdentity).toMatchObject({ method: 'PIN', errors: [] });
    const proof = res.data.verifyIdentity.proof!;

    // A subgraph's own verifier, from the JWKS only.
    const jwks = (await (await fetch(new URL('/.well-known/jwks.json', h.running.url))).json()) as {
      keys: jose.JWK[];
    };
    const local = new TokenVerifier({ jwks });
    await expect(
      local.verifyProof(proof, { personId: someone.id, purpose: 'USE_VOUCHER', subject: voucherId }),
    ).resolves.toMatchObject({
      personId: someone.id,
      purpose: 'USE_VOUCHER',
      subject: voucherId,
      method: 'PIN',
    });
    await expect(
      local.verifyProof(proof, { personId: someone.id, purpose: 'CLAIM_VOUCHER' }),
    ).rejects.toMatchObject({
      code: 'IDENTITY_PROOF_INVALID',
    });
    await expect(
      local.verifyProof(proof, { personId: someone.id, purpose: 'USE_VOUCHER', subject: uuidv7() }),
    ).rejects.toMatchObject({ code: 'IDENTITY_PROOF_INVALID' });
    await expect(
      local.verifyProof(proof, { personId: uuidv7(), purpose: 'USE_VOUCHER' }),
    ).rejects.toMatchObject({
      code: 'IDENTITY_PROOF_INVALID',
    });
    // A proof is not an access token, and an access token is not a proof.
    await expect(local.verify(proof)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const ttl = new Date(res.data.verifyIdentity.expiresAt!).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(250_000);
    expect(ttl).toBeLessThanOrEqual(300_000);
  });

  test('only a signed-in person verifies, with exactly one method', async () => {
    const anon = await h.gql<VerifyResult>(null, VERIFY, { input: { purpose: 'USE_VOUCHER', pin: PIN } });
    expect(anon.data.verifyIdentity.errors[0]!.code).toBe('UNAUTHENTICATED');
    const someone = await issuePerson(h, { pin: PIN });
    const both = await verify(person(someone.id), { pin: PIN, faceAssertion: 'x.y.z' });
    expect(both.data.verifyIdentity.errors[0]!.code).toBe('BAD_USER_INPUT');
    const badSubject = await verify(person(someone.id), { pin: PIN, subject: "'; DROP TABLE vouchers; --" });
    expect(badSubject.data.verifyIdentity.errors[0]).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'subject',
    });
  });
});

describe('face-verification assertions', () => {
  let someone: IssuedPerson;
  const me = () => person(someone.id);
  beforeAll(async () => {
    someone = await issuePerson(h, { pin: PIN });
  });

  async function challenge(purpose = 'USE_VOUCHER', subject?: string): Promise<string> {
    const res = await h.gql<{ startFaceVerification: { nonce: string; errors: unknown[] } }>(
      me(),
      START_FACE,
      {
        input: { purpose, subject },
      },
    );
    expect(res.data.startFaceVerification.errors).toEqual([]);
    return res.data.startFaceVerification.nonce;
  }

  const code = (r: { data: VerifyResult }) => r.data.verifyIdentity.errors[0]?.code;

  test('a valid PASS assertion for our nonce yields a FACE proof', async () => {
    const voucherId = uuidv7();
    const nonce = await challenge('CLAIM_VOUCHER', voucherId);
    const assertion = await face.sign({ sub: someone.id, nonce, result: 'PASS' });
    const res = await verify(me(), {
      purpose: 'CLAIM_VOUCHER',
      subject: voucherId,
      faceAssertion: assertion,
    });
    expect(res.data.verifyIdentity).toMatchObject({ method: 'FACE', errors: [] });
    await expect(
      verifier.verifyProof(res.data.verifyIdentity.proof!, {
        personId: someone.id,
        purpose: 'CLAIM_VOUCHER',
        subject: voucherId,
      }),
    ).resolves.toMatchObject({ method: 'FACE' });
  });

  test('a replayed assertion is refused, also when Redis has forgotten the nonce', async () => {
    const nonce = await challenge();
    const assertion = await face.sign({ sub: someone.id, nonce, result: 'PASS' });
    expect(code(await verify(me(), { faceAssertion: assertion }))).toBeUndefined();
    expect(code(await verify(me(), { faceAssertion: assertion }))).toBe('FACE_NONCE_REPLAYED');
    // Redis is a fast gate only: with its keys gone, the database still refuses the nonce.
    await h.running.deps.cache.del(`face-nonce:${createHash('sha256').update(nonce).digest('base64url')}`);
    expect(code(await verify(me(), { faceAssertion: assertion }))).toBe('FACE_NONCE_REPLAYED');
  });

  test('a bad signature, wrong audience, wrong issuer, expiry and tampering are refused', async () => {
    const nonce = await challenge();
    const claims = { sub: someone.id, nonce, result: 'PASS' };
    const impostor = await face.sign(claims, { key: 'impostor' });
    expect(code(await verify(me(), { faceAssertion: impostor }))).toBe('FACE_ASSERTION_INVALID');

    const wrongAudience = await face.sign({ ...claims, aud: 'some-other-platform' });
    expect(code(await verify(me(), { faceAssertion: wrongAudience }))).toBe('FACE_ASSERTION_INVALID');

    const wrongIssuer = await face.sign({ ...claims, iss: 'https://evil.example.test' });
    expect(code(await verify(me(), { faceAssertion: wrongIssuer }))).toBe('FACE_ASSERTION_INVALID');

    const now = Math.floor(Date.now() / 1000);
    const expired = await face.sign(claims, { iat: now - 600, exp: now - 300 });
    expect(code(await verify(me(), { faceAssertion: expired }))).toBe('FACE_ASSERTION_EXPIRED');

    const tooOld = await face.sign(claims, { iat: now - 3600, exp: now + 60 });
    expect(code(await verify(me(), { faceAssertion: tooOld }))).toBe('FACE_ASSERTION_EXPIRED');

    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ ...claims, iss: face.issuer, aud: 'vtv-identity', iat: now, exp: now + 60 }),
    ).toString('base64url')}.`;
    expect(code(await verify(me(), { faceAssertion: unsigned }))).toBe('FACE_ASSERTION_INVALID');

    const hs256 = await new jose.SignJWT({ ...claims, iss: face.issuer, aud: 'vtv-identity' })
      .setProtectedHeader({ alg: 'HS256', kid: 'face-key-1' })
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('guessable-shared-secret-0123456789'));
    expect(code(await verify(me(), { faceAssertion: hs256 }))).toBe('FACE_ASSERTION_INVALID');

    expect(code(await verify(me(), { faceAssertion: 'not-a-jwt' }))).toBe('FACE_ASSERTION_INVALID');
    expect(code(await verify(me(), { faceAssertion: 'a'.repeat(100_000) }))).toBe('FACE_ASSERTION_INVALID');

    // None of those consumed the challenge: the genuine assertion still works.
    const genuine = await face.sign(claims);
    expect(code(await verify(me(), { faceAssertion: genuine }))).toBeUndefined();
  });

  test('nonces must be ours, unexpired, and for this person and purpose; FAIL is a mismatch', async () => {
    const foreignNonce = randomBytes(24).toString('base64url');
    expect(
      code(
        await verify(me(), {
          faceAssertion: await face.sign({ sub: someone.id, nonce: foreignNonce, result: 'PASS' }),
        }),
      ),
    ).toBe('FACE_NONCE_INVALID');

    const forClaim = await challenge('CLAIM_VOUCHER');
    expect(
      code(
        await verify(me(), {
          faceAssertion: await face.sign({ sub: someone.id, nonce: forClaim, result: 'PASS' }),
        }),
      ),
    ).toBe('FACE_NONCE_INVALID');

    const nonce = await challenge();
    expect(
      code(await verify(me(), { faceAssertion: await face.sign({ sub: uuidv7(), nonce, result: 'PASS' }) })),
    ).toBe('FACE_ASSERTION_INVALID');

    const expiring = await challenge();
    await h.running.deps.ds.query(
      `UPDATE face_challenges SET expires_at = now() - interval '1 s' WHERE nonce = $1`,
      [expiring],
    );
    expect(
      code(
        await verify(me(), {
          faceAssertion: await face.sign({ sub: someone.id, nonce: expiring, result: 'PASS' }),
        }),
      ),
    ).toBe('FACE_NONCE_INVALID');

    const failing = await challenge();
    expect(
      code(
        await verify(me(), {
          faceAssertion: await face.sign({ sub: someone.id, nonce: failing, result: 'FAIL' }),
        }),
      ),
    ).toBe('FACE_NOT_MATCHED');
  });
});
