import { randomBytes } from 'node:crypto';
import { BlindIndex, PiiCipher, StaticKeyProvider } from './pii-crypto';

const k1 = { id: 'k1', key: randomBytes(32) };
const k2 = { id: 'k2', key: randomBytes(32) };
const SAMPLE = '42010219900307123X';

describe('PiiCipher (AES-256-GCM)', () => {
  const cipher = new PiiCipher(new StaticKeyProvider([k1]));

  test('round-trips, with a fresh nonce every time and the key id in the envelope', () => {
    const a = cipher.encrypt(SAMPLE, 'people.id_number:p1');
    const b = cipher.encrypt(SAMPLE, 'people.id_number:p1');
    expect(a.equals(b)).toBe(false);
    expect(cipher.keyIdOf(a)).toBe('k1');
    expect(a.includes(Buffer.from(SAMPLE))).toBe(false);
    expect(cipher.decrypt(a, 'people.id_number:p1')).toBe(SAMPLE);
  });

  test('a ciphertext moved to another row or column does not decrypt', () => {
    const a = cipher.encrypt(SAMPLE, 'people.id_number:p1');
    expect(() => cipher.decrypt(a, 'people.id_number:p2')).toThrow();
    expect(() => cipher.decrypt(a, 'people.name:p1')).toThrow();
  });

  test('a flipped bit is detected', () => {
    const a = cipher.encrypt(SAMPLE, 'ctx');
    for (const at of [a.length - 1, a.length - 20, 10]) {
      const tampered = Buffer.from(a);
      tampered[at] = tampered[at]! ^ 0x01;
      expect(() => cipher.decrypt(tampered, 'ctx')).toThrow();
    }
  });

  test('rotation: new writes use the newest key, old ciphertexts still decrypt, retired keys fail closed', () => {
    const old = cipher.encrypt(SAMPLE, 'ctx');
    const rotated = new PiiCipher(new StaticKeyProvider([k2, k1]));
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.decrypt(old, 'ctx')).toBe(SAMPLE);
    expect(rotated.keyIdOf(rotated.encrypt(SAMPLE, 'ctx'))).toBe('k2');
    const retired = new PiiCipher(new StaticKeyProvider([k2]));
    expect(() => retired.decrypt(old, 'ctx')).toThrow(/k1 is not configured/);
  });

  test('keys must be 32 bytes and there must be one', () => {
    expect(() => new StaticKeyProvider([])).toThrow();
    expect(() => new StaticKeyProvider([{ id: 'short', key: randomBytes(16) }])).toThrow();
  });
});

describe('BlindIndex (HMAC-SHA256)', () => {
  test('deterministic under one key, different under another, never the plaintext', () => {
    const key = randomBytes(32);
    const a = new BlindIndex(key).idNumber(SAMPLE);
    expect(a).toHaveLength(32);
    expect(new BlindIndex(key).idNumber(SAMPLE).equals(a)).toBe(true);
    expect(new BlindIndex(randomBytes(32)).idNumber(SAMPLE).equals(a)).toBe(false);
    expect(new BlindIndex(key).idNumber('42010219900307124X').equals(a)).toBe(false);
  });
});
