import { baseConfig, isRegionCode, isValidIdNumber } from '@vtv/kit';
import { z } from 'zod';

const optionalUrl = z
  .string()
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be an http(s) URL')
  .optional();

/** 32 bytes, base64 or base64url. */
const key32 = z.string().refine((v) => Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64');

const encryptionKeys = z.string().refine((v) => {
  try {
    const keys = JSON.parse(v) as unknown;
    return (
      Array.isArray(keys) &&
      keys.length > 0 &&
      keys.every(
        (k: { id?: unknown; key?: unknown }) =>
          typeof k.id === 'string' &&
          /^[A-Za-z0-9_.-]{1,32}$/.test(k.id) &&
          typeof k.key === 'string' &&
          Buffer.from(k.key, 'base64').length === 32,
      ) &&
      new Set(keys.map((k: { id: string }) => k.id)).size === keys.length
    );
  } catch {
    return false;
  }
}, 'must be a JSON array of {"id": "<1-32 of A-Za-z0-9_.->", "key": "<32 bytes base64>"}, newest first, ids unique');

export const identityConfig = baseConfig
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    /**
     * JSON array of ES256 private JWKs (with kid), newest first. Absent outside production: a key is
     * generated at start (tokens then die with the process).
     */
    TOKEN_SIGNING_KEYS: z.string().optional(),
    TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    /** Lifetime of a verification proof (CLAIM_VOUCHER / USE_VOUCHER). */
    PROOF_TTL_SECONDS: z.coerce.number().int().min(30).max(900).default(300),

    /** AES-256-GCM keys for personal data at rest, newest first (see README: key rotation). */
    PII_ENCRYPTION_KEYS: encryptionKeys.optional(),
    /** HMAC-SHA256 key of the blind index used to look people up by ID number. Never rotated lightly. */
    PII_BLIND_INDEX_KEY: key32.optional(),
    /** Pepper mixed into PIN hashes (kept out of the database). Defaults to one derived from the blind-index key. */
    PIN_PEPPER_KEY: key32.optional(),

    PIN_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    PIN_LOCKOUT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
    /** scrypt cost N (power of two). Stored with each hash, so raising it re-hashes on the next success. */
    PIN_SCRYPT_COST: z.coerce
      .number()
      .int()
      .min(1024)
      .max(1_048_576)
      .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
      .default(16_384),

    /** The face-verification provider's JWKS (its public keys). Absent: face verification is unavailable. */
    FACE_PROVIDER_JWKS_URL: optionalUrl,
    FACE_PROVIDER_ISSUER: z.string().min(1).optional(),
    FACE_PROVIDER_AUDIENCE: z.string().min(1).default('vtv-identity'),
    /** Comma-separated JWS algorithms accepted from the provider. */
    FACE_PROVIDER_ALGORITHMS: z
      .string()
      .regex(/^(ES256|ES384|RS256|PS256|EdDSA)(,(ES256|ES384|RS256|PS256|EdDSA))*$/)
      .default('ES256,RS256'),
    /** How long a face-verification challenge (its nonce) stays usable. */
    FACE_CHALLENGE_TTL_SECONDS: z.coerce.number().int().min(30).max(1800).default(300),
    /** Oldest acceptable assertion (by its iat), besides its own exp. */
    FACE_ASSERTION_MAX_AGE_SECONDS: z.coerce.number().int().min(10).max(1800).default(300),

    /**
     * Whether anonymous callers (the labourer's own channel) may issue an e-SSC. Off: only staff and
     * issuance channels holding person:card:issue can.
     */
    CARD_SELF_SERVICE_ISSUANCE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),

    /** Lifetime of a console QR sign-in challenge. */
    SIGN_IN_CHALLENGE_TTL_SECONDS: z.coerce.number().int().min(10).max(900).default(120),

    /** Bootstrap: the first provincial system administrator (see README). */
    BOOTSTRAP_ADMIN_ID_NUMBER: z
      .string()
      .refine((v) => isValidIdNumber(v), 'must be a valid ID number (GB 11643-1999)')
      .optional(),
    BOOTSTRAP_ADMIN_NAME: z.string().min(1).max(50).optional(),
    BOOTSTRAP_ADMIN_REGION_CODE: z
      .string()
      .refine((v) => isRegionCode(v) && v.endsWith('0000'), 'must be a province code such as 420000')
      .optional(),
  })
  .refine((c) => c.NODE_ENV !== 'production' || !!c.TOKEN_SIGNING_KEYS, {
    path: ['TOKEN_SIGNING_KEYS'],
    message: 'is required in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || !!c.PII_ENCRYPTION_KEYS, {
    path: ['PII_ENCRYPTION_KEYS'],
    message: 'is required in production',
  })
  .refine((c) => c.NODE_ENV !== 'production' || !!c.PII_BLIND_INDEX_KEY, {
    path: ['PII_BLIND_INDEX_KEY'],
    message: 'is required in production',
  })
  .refine((c) => !c.FACE_PROVIDER_JWKS_URL || !!c.FACE_PROVIDER_ISSUER, {
    path: ['FACE_PROVIDER_ISSUER'],
    message: 'is required when FACE_PROVIDER_JWKS_URL is set',
  })
  .refine(
    (c) => !c.BOOTSTRAP_ADMIN_ID_NUMBER || (!!c.BOOTSTRAP_ADMIN_NAME && !!c.BOOTSTRAP_ADMIN_REGION_CODE),
    {
      path: ['BOOTSTRAP_ADMIN_ID_NUMBER'],
      message: 'needs BOOTSTRAP_ADMIN_NAME and BOOTSTRAP_ADMIN_REGION_CODE as well',
    },
  );

export type IdentityConfig = z.infer<typeof identityConfig>;
