import { availableParallelism } from 'node:os';
import { z } from 'zod';

export const SUBGRAPHS = ['identity', 'vouchers', 'training', 'settlement', 'careers'] as const;

const optionalUrl = z.url({ protocol: /^https?$/ }).optional();
const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1'));
const optionalBool = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1'));
const list = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );
/** "N/Ws": N requests per W seconds; "0" turns the limit off. */
const rate = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => v === '0' || /^\d+\/\d+s$/.test(v), 'must be N/Ws (e.g. 600/60s) or 0')
    .transform((v): RateLimit | null => {
      if (v === '0') return null;
      const [n, w] = v.split('/');
      return { max: Number(n), windowMs: Number.parseInt(w!, 10) * 1000 };
    });

export interface RateLimit {
  max: number;
  windowMs: number;
}

export const gatewayConfig = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    HOST: z.string().default('0.0.0.0'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The composed supergraph (npm run compose). Watched: a valid new version is loaded live. */
    SUPERGRAPH_PATH: z.string().default('schema/supergraph.graphql'),
    SUPERGRAPH_WATCH: bool(true),
    /** Where identity publishes its token keys. Defaults to IDENTITY_URL's origin + /.well-known/jwks.json. */
    JWKS_URL: optionalUrl,
    JWKS_CACHE_MAX_AGE_MS: int(0, 600_000),
    /** Minimum time between two key-set fetches (an unknown kid triggers one). */
    JWKS_COOLDOWN_MS: int(0, 30_000),
    /** Verified access tokens remembered (0: verify every request), least recently used dropped first. */
    TOKEN_CACHE_SIZE: int(0, 10_000),
    /** How long a verified token is remembered at most (and never past its expiry). */
    TOKEN_CACHE_MAX_AGE_MS: int(0, 60_000),
    INTERNAL_AUTH_SECRET: z.string().min(32, 'must be at least 32 characters'),
    /** Per-subgraph URL overrides; otherwise the URLs recorded in the supergraph are used. */
    IDENTITY_URL: optionalUrl,
    VOUCHERS_URL: optionalUrl,
    TRAINING_URL: optionalUrl,
    SETTLEMENT_URL: optionalUrl,
    CAREERS_URL: optionalUrl,
    /**
     * URL overrides for any subgraph, including a province's own: `name=url,name=url`. Lets an
     * integrator's subgraph be pointed at without a code change (the named *_URL variables win).
     */
    SUBGRAPH_URLS: z
      .string()
      .regex(
        /^([a-z][a-z0-9-]*=https?:\/\/[^,\s]+)(,[a-z][a-z0-9-]*=https?:\/\/[^,\s]+)*$/,
        'must be name=url pairs separated by commas',
      )
      .optional(),
    SUBGRAPH_TIMEOUT_MS: int(1, 10_000),
    /** Keep-alive sockets per subgraph. */
    SUBGRAPH_MAX_SOCKETS: int(1, 64),
    /**
     * Identical subgraph reads in flight at once (same subgraph, query, variables, caller and forwarded
     * headers, inside a query operation) share one fetch.
     */
    SUBGRAPH_DEDUPLICATE_QUERIES: bool(true),
    /** Client request headers forwarded to subgraphs (lower case); nothing else is. */
    PROPAGATE_HEADERS: list('accept-language,x-device-id'),
    /** /readyz also asks every subgraph's /readyz and names failing ones (status 'degraded'; not gating). */
    READINESS_CHECKS_SUBGRAPHS: bool(true),
    /** `enforce`: only operations in the manifests run. Defaults to enforce in production, off elsewhere. */
    TRUSTED_OPERATIONS: z.enum(['enforce', 'off']).optional(),
    /** Comma-separated persisted-query manifests (schema/operations/manifest.json and front-end ones). */
    OPERATION_MANIFESTS: list('schema/operations/manifest.json'),
    /** The GraphiQL IDE at /graphiql; defaults to on outside production. */
    GRAPHIQL: optionalBool,
    MAX_BODY_BYTES: int(1024, 64 * 1024),
    MAX_TOKENS: int(1, 2_000),
    MAX_DEPTH: int(1, 12),
    MAX_ALIASES: int(0, 15),
    MAX_ROOT_FIELDS: int(1, 10),
    /** Field selections in the whole operation, fragments expanded. */
    MAX_FIELDS: int(1, 500),
    MAX_COST: int(1, 5_000),
    /** Assumed size of a list whose size no argument (first/last/limit) bounds. */
    COST_DEFAULT_LIST_SIZE: int(1, 20),
    /** Absent: an in-process counter store (single replica, development only). */
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    /** Requests worked on at once (0: no admission control); the rest wait in arrival order. */
    MAX_CONCURRENT_REQUESTS: int(0, 128),
    /** Requests allowed to wait; beyond, 503 UNAVAILABLE at once. */
    MAX_QUEUED_REQUESTS: int(0, 10_000),
    /** Longest wait for admission before a 503. */
    QUEUE_TIMEOUT_MS: int(1, 10_000),
    RATE_LIMIT_PRINCIPAL: rate('600/60s'),
    RATE_LIMIT_OPERATION: rate('120/60s'),
    /** Code and token guessing: attempts per account, per device and per client address. */
    RATE_LIMIT_GUARDED: rate('10/60s'),
    RATE_LIMIT_GUARDED_PER_ADDRESS: rate('30/60s'),
    /** Root fields are guarded when they take one of these arguments (or an input with such a field). */
    RATE_LIMIT_GUARDED_ARGUMENTS: list('code,voucherCode,token,qrToken,pin,otp,password,verificationCode'),
    /** Further guarded root fields, as Type.field. */
    RATE_LIMIT_GUARDED_FIELDS: list(''),
    /** Express `trust proxy`: hops of proxies whose X-Forwarded-For is believed (0: none). */
    TRUST_PROXY: int(0, 0),
    METRICS: bool(true),
    /** Drain time on SIGTERM: in-flight requests get this long before their connections are closed. */
    SHUTDOWN_GRACE_MS: int(0, 10_000),
    /**
     * Processes serving requests (node:cluster workers sharing PORT): 1 runs the gateway in this process,
     * no cluster; 0 means one per core the process may use (os.availableParallelism()).
     */
    GATEWAY_WORKERS: int(0, 1),
  })
  // Without Redis each worker would count on its own: N times every limit, the guessing throttle included.
  .refine((c) => c.NODE_ENV !== 'production' || c.GATEWAY_WORKERS === 1 || !!c.REDIS_URL, {
    path: ['REDIS_URL'],
    message:
      'is required in production with GATEWAY_WORKERS other than 1 (rate-limit counters the workers share)',
  })
  .transform((c) => ({
    ...c,
    TRUSTED_OPERATIONS: c.TRUSTED_OPERATIONS ?? (c.NODE_ENV === 'production' ? 'enforce' : 'off'),
    GRAPHIQL: c.GRAPHIQL ?? c.NODE_ENV !== 'production',
  }));

export type GatewayConfig = z.infer<typeof gatewayConfig>;

export function subgraphUrlOverrides(c: GatewayConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of c.SUBGRAPH_URLS?.split(',') ?? []) {
    const at = pair.indexOf('=');
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
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

/** How many processes serve requests: GATEWAY_WORKERS, with 0 meaning one per available core. */
export function workerCount(
  c: Pick<GatewayConfig, 'GATEWAY_WORKERS'>,
  cores = availableParallelism(),
): number {
  return c.GATEWAY_WORKERS === 0 ? Math.max(1, cores) : c.GATEWAY_WORKERS;
}
