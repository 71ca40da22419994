import { randomBytes } from 'node:crypto';
import { PinHasher } from './pin-hasher';

const pepper = randomBytes(32);

test('salted scrypt: the same PIN hashes differently, verifies, and needs the pepper', async () => {
  const hasher = new PinHasher(pepper, 1024);
  const a = await hasher.hash('482915');
  const b = await hasher.hash('482915');
  expect(a.params).toBe('scrypt:N=1024,r=8,p=1');
  expect(a.hash.equals(b.hash)).toBe(false);
  expect(await hasher.verify('482915', a)).toBe(true);
  expect(await hasher.verify('482916', a)).toBe(false);
  expect(await new PinHasher(randomBytes(32), 1024).verify('482915', a)).toBe(false);
});

test('hashes keep their own cost, so raising it later re-hashes instead of breaking', async () => {
  const old = await new PinHasher(pepper, 1024).hash('482915');
  const stronger = new PinHasher(pepper, 2048);
  expect(await stronger.verify('482915', old)).toBe(true);
  expect(stronger.needsRehash(old.params)).toBe(true);
  expect(stronger.needsRehash('scrypt:N=2048,r=8,p=1')).toBe(false);
});
