import { TokenIssuer, TokenVerifier, generateSigningKey, uuidv7 } from '@vtv/kit';
import { VerifiedTokens } from '../src/token-cache';

/** Counts real signature checks by wrapping the kit's verifier. */
class CountingVerifier extends TokenVerifier {
  calls = 0;
  override async verifyAccess(token: string) {
    this.calls += 1;
    return super.verifyAccess(token);
  }
}

async function setUp(o: { size?: number; maxAgeMs?: number } = {}) {
  const key = await generateSigningKey();
  const issuer = new TokenIssuer([key], 600);
  const verifier = new CountingVerifier({ jwks: issuer.jwks() });
  let now = Date.now();
  const tokens = new VerifiedTokens(verifier, o.size ?? 100, o.maxAgeMs ?? 60_000, () => now);
  const person = (ttl?: number) => issuer.issue({ kind: 'person', id: uuidv7(), permissions: ['a'] }, ttl);
  return { verifier, tokens, person, advance: (ms: number) => (now += ms) };
}

test('a verified token is remembered: the next lookup needs no signature check', async () => {
  const { verifier, tokens, person } = await setUp();
  const token = await person();
  expect(tokens.cached(token)).toBeUndefined();
  const caller = await tokens.verify(token);
  expect(tokens.cached(token)).toEqual(caller);
  expect(verifier.calls).toBe(1);
});

test('the remembered caller cannot be changed by one request for the next', async () => {
  const { tokens, person } = await setUp();
  const token = await person();
  await tokens.verify(token);
  const caller = tokens.cached(token)!;
  expect(() => caller.permissions.push('admin')).toThrow(TypeError);
  expect(() => Object.assign(caller, { kind: 'staff' })).toThrow(TypeError);
  expect(tokens.cached(token)!.permissions).toEqual(['a']);
});

test('an entry lasts at most maxAgeMs, and never past the token’s own expiry', async () => {
  const a = await setUp({ maxAgeMs: 60_000 });
  const long = await a.person(600);
  await a.tokens.verify(long);
  a.advance(59_000);
  expect(a.tokens.cached(long)).toBeDefined();
  a.advance(2_000);
  expect(a.tokens.cached(long)).toBeUndefined();

  const b = await setUp({ maxAgeMs: 60_000 });
  const short = await b.person(10);
  await b.tokens.verify(short);
  b.advance(11_000);
  expect(b.tokens.cached(short)).toBeUndefined();
});

test('bad tokens are never remembered', async () => {
  const { verifier, tokens, person } = await setUp();
  const token = await person();
  const forged = `${token.slice(0, -4)}AAAA`;
  await expect(tokens.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  await expect(tokens.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  expect(tokens.cached(forged)).toBeUndefined();
  expect(verifier.calls).toBe(2);
});

test('bounded: the least recently used entry goes first; size 0 remembers nothing', async () => {
  const { tokens, person } = await setUp({ size: 2 });
  const [t1, t2, t3] = await Promise.all([person(), person(), person()]);
  await tokens.verify(t1!);
  await tokens.verify(t2!);
  tokens.cached(t1!); // t1 used again: t2 is now the least recently used
  await tokens.verify(t3!);
  expect(tokens.size).toBe(2);
  expect(tokens.cached(t1!)).toBeDefined();
  expect(tokens.cached(t2!)).toBeUndefined();
  expect(tokens.cached(t3!)).toBeDefined();

  const off = await setUp({ size: 0 });
  const t = await off.person();
  await off.tokens.verify(t);
  expect(off.tokens.cached(t)).toBeUndefined();
  expect(off.tokens.size).toBe(0);
});
