import { scrubText } from '@vtv/kit';
import { randomBytes } from 'node:crypto';
import { CROCKFORD, codeHint, deriveCode, formatCode, normalizeCode } from './codes';

const key = randomBytes(32);
const id = '01900000-0000-7000-8000-000000000001';

describe('voucher codes (券码)', () => {
  it('are 16 Crockford characters, stable per voucher, different across vouchers and keys', () => {
    const code = deriveCode(key, id);
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{16}$/);
    expect(deriveCode(key, id)).toBe(code);
    expect(deriveCode(key, '01900000-0000-7000-8000-000000000002')).not.toBe(code);
    expect(deriveCode(randomBytes(32), id)).not.toBe(code);
    expect(formatCode(code)).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
  });

  it('carry 75 random bits: no collisions among 100,000 and every character position varies', () => {
    const seen = new Set<string>();
    const perPosition = Array.from({ length: 15 }, () => new Set<string>());
    for (let i = 0; i < 100_000; i += 1) {
      const c = deriveCode(key, `voucher-${i}`);
      seen.add(c);
      for (let p = 0; p < 15; p += 1) perPosition[p]!.add(c[p]!);
    }
    expect(seen.size).toBe(100_000);
    expect(perPosition.every((s) => s.size === 32)).toBe(true);
  });

  it('normalises what people type and rejects typos, wrong alphabets, lengths and injection before any lookup', () => {
    const code = deriveCode(key, id);
    const dashed = formatCode(code);
    expect(normalizeCode(dashed)).toBe(code);
    expect(normalizeCode(dashed.toLowerCase().replace(/-/g, ' '))).toBe(code);
    // Crockford reading: O is 0, I and L are 1.
    const withZero = code.replace(/0/g, 'O');
    expect(normalizeCode(withZero)).toBe(code);
    // Every single-character substitution is caught by the check character.
    for (let p = 0; p < 16; p += 1) {
      for (const c of CROCKFORD) {
        if (c === code[p]) continue;
        expect(normalizeCode(code.slice(0, p) + c + code.slice(p + 1))).toBeNull();
      }
    }
    for (const bad of [
      '',
      'ABC',
      `${code}0`,
      code.replace(/./, 'U'),
      "'; DROP TABLE vouchers; --",
      'x'.repeat(10_000),
      42,
      null,
    ])
      expect(normalizeCode(bad)).toBeNull();
  });

  it('never shows more than the last group, and the logger scrubs a full code', () => {
    const code = deriveCode(key, id);
    expect(codeHint(code)).toBe(`****-****-****-${code.slice(12)}`);
    expect(scrubText(`code ${formatCode(code)} typed`)).not.toContain(formatCode(code).slice(5));
  });
});
