/** Mainland China mobile numbers (the number reserved with the social security card's bank). */
import { DomainError } from './errors';

export const PHONE_INVALID = 'PHONE_INVALID';

const MOBILE_RE = /^1[3-9]\d{9}$/;

/**
 * Full-width digits become ASCII, spaces and dashes go, a +86 / 0086 prefix goes. Returns the 11-digit
 * number, or null when the result is not a mainland mobile number.
 */
export function normalisePhone(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.length > 40) return null;
  let v = raw.normalize('NFKC').replace(/[\s\-()]/g, '');
  if (v.startsWith('+86')) v = v.slice(3);
  else if (v.startsWith('0086')) v = v.slice(4);
  else if (v.length === 13 && v.startsWith('86')) v = v.slice(2);
  return MOBILE_RE.test(v) ? v : null;
}

export function requirePhone(raw: unknown, field = 'phone'): string {
  const phone = normalisePhone(raw);
  if (!phone)
    throw new DomainError(PHONE_INVALID, 'The phone must be a mainland mobile number (11 digits)', field);
  return phone;
}
