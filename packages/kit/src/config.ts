import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${protocols.join(' or ')}`,
  );

/** Variables every service reads. Service configs extend this object. */
export const baseConfig = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Absent: an in-process cache (embedded mode only). */
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Comma-separated host:port list. Absent: an in-process bus (embedded mode only). */
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be a comma-separated list of host:port')
    .optional(),
  /** Prefix for Kafka topics and consumer groups; isolates test runs sharing one broker. */
  EVENTS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9_-]{1,40}$/, 'must be 1-40 characters of a-z 0-9 _ -')
    .optional(),
  /** Identity's public keys, for verifying access tokens and verification proofs locally. */
  IDENTITY_JWKS_URL: url(['http:', 'https:']).optional(),
  /** Shared secret the gateway signs forwarded callers with; subgraphs refuse requests without it. */
  INTERNAL_AUTH_SECRET: z.string().min(32, 'must be at least 32 characters'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
});

export type BaseConfig = z.infer<typeof baseConfig>;

/**
 * Parses the environment once. On failure lists every bad variable at once, so an operator
 * fixes a deployment in one pass instead of one restart per variable.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    const message = issue.code === 'invalid_type' && env[name] === undefined ? 'is required' : issue.message;
    return `${name}: ${message}`;
  });
  throw new ConfigError(problems);
}
