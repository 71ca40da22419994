import { createHash, createHmac } from 'node:crypto';

/**
 * Voucher codes (券码) for manual entry: 16 Crockford base32 characters written XXXX-XXXX-XXXX-XXXX
 * (the pattern the logger scrubs). 15 characters (75 bits) come from an HMAC of the voucher id under
 * VOUCHER_CODE_SECRET, so the code can be shown to its holder again without being stored; the 16th is a
 * check character that catches typos before any lookup. The database keeps only a SHA-256 digest.
 */
export const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const DATA_CHARS = 15;
const VALUE = new Map([...CROCKFORD].map((c, i) => [c, i]));

/** Position-weighted sum mod 32 with odd weights: every single-character substitution changes it. */
function checkChar(data: string): string {
  let sum = 0;
  for (let i = 0; i < data.length; i += 1) sum += VALUE.get(data[i]!)! * (2 * i + 1);
  return CROCKFORD[sum % 32]!;
}

function base32(bytes: Buffer, chars: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === chars) break;
  }
  return out;
}

/** The voucher's code, undashed (16 characters). */
export function deriveCode(secret: Buffer, voucherId: string): string {
  const data = base32(createHmac('sha256', secret).update(`voucher-code:${voucherId}`).digest(), DATA_CHARS);
  return data + checkChar(data);
}

export function formatCode(code: string): string {
  return code.match(/.{4}/g)!.join('-');
}

/** What holders and staff may see of a code: the last group only. */
export function codeHint(code: string): string {
  return `****-****-****-${code.slice(12)}`;
}

export function codeDigest(code: string): Buffer {
  return createHash('sha256').update(code).digest();
}

/**
 * A typed code, normalised the Crockford way (case-insensitive; I and L read as 1, O as 0; spaces and
 * dashes ignored). Null when it cannot be a code: wrong length, a character outside the alphabet, or a
 * failed check character. Never throws, never queries.
 */
export function normalizeCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 40) return null;
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (s.length !== DATA_CHARS + 1) return null;
  for (const c of s) if (!VALUE.has(c)) return null;
  return checkChar(s.slice(0, DATA_CHARS)) === s[DATA_CHARS] ? s : null;
}
