import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * High-entropy secrets (client secrets, QR sign-in secrets): 256 random bits, stored only as SHA-256.
 * A slow hash adds nothing at this entropy; comparison is constant-time.
 */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

export function secretMatches(secret: unknown, storedHash: Buffer): boolean {
  if (typeof secret !== 'string' || secret.length > 200) return false;
  const candidate = hashSecret(secret);
  return candidate.length === storedHash.length && timingSafeEqual(candidate, storedHash);
}
