import { baseConfig } from '@vtv/kit';
import { z } from 'zod';

export const identityConfig = baseConfig
  .extend({
    PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    /**
     * JSON array of ES256 private JWKs (with kid), newest first. Absent outside production: a key is
     * generated at start (tokens then die with the process).
     */
    TOKEN_SIGNING_KEYS: z.string().optional(),
    TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  })
  .refine((c) => c.NODE_ENV !== 'production' || !!c.TOKEN_SIGNING_KEYS, {
    path: ['TOKEN_SIGNING_KEYS'],
    message: 'is required in production',
  });

export type IdentityConfig = z.infer<typeof identityConfig>;
