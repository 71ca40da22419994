import { z } from 'zod';

const SUBGRAPHS = ['identity', 'vouchers', 'training', 'settlement', 'careers'] as const;

const optionalUrl = z.url({ protocol: /^https?$/ }).optional();

export const gatewayConfig = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** The composed supergraph (npm run compose). */
  SUPERGRAPH_PATH: z.string().default('schema/supergraph.graphql'),
  /** Where identity publishes its token keys. Defaults to IDENTITY_URL's origin + /.well-known/jwks.json. */
  JWKS_URL: optionalUrl,
  INTERNAL_AUTH_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** Per-subgraph URL overrides; otherwise the URLs recorded in the supergraph are used. */
  IDENTITY_URL: optionalUrl,
  VOUCHERS_URL: optionalUrl,
  TRAINING_URL: optionalUrl,
  SETTLEMENT_URL: optionalUrl,
  CAREERS_URL: optionalUrl,
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
});

export type GatewayConfig = z.infer<typeof gatewayConfig>;

export function subgraphUrlOverrides(c: GatewayConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SUBGRAPHS) {
    const url = c[`${name.toUpperCase()}_URL` as keyof GatewayConfig];
    if (typeof url === 'string') out[name] = url;
  }
  return out;
}

export function jwksUrl(c: GatewayConfig): string | undefined {
  if (c.JWKS_URL) return c.JWKS_URL;
  return c.IDENTITY_URL ? new URL('/.well-known/jwks.json', c.IDENTITY_URL).toString() : undefined;
}
