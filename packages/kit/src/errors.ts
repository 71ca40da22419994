import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';

/**
 * The platform's error codes. Expected failures carry one of these; anything else is masked as
 * INTERNAL_SERVER_ERROR with a correlation id that appears in the server log. Documented in docs/errors.md.
 */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  INVALID_STATE: 'INVALID_STATE',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  RATE_LIMITED: 'RATE_LIMITED',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type BaseErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An expected, documented failure. `code` may also be a domain code (e.g. VOUCHER_ALREADY_USED). */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} not found`);
export const badInput = (field: string, message: string) =>
  new DomainError(ErrorCode.BAD_USER_INPUT, message, field);

/** The shape mutations return expected failures in (`errors: [UserError!]!` in every payload). */
export interface UserError {
  code: string;
  message: string;
  field: string | null;
}

export function toUserError(err: DomainError): UserError {
  return { code: err.code, message: err.message, field: err.field ?? null };
}

/** Runs a mutation body; a DomainError becomes a payload error instead of a GraphQL error. */
export async function mutationPayload<T extends object>(
  body: () => Promise<T>,
): Promise<(T & { errors: UserError[] }) | { errors: UserError[] }> {
  try {
    return { ...(await body()), errors: [] };
  } catch (err) {
    if (err instanceof DomainError) return { errors: [toUserError(err)] };
    throw err;
  }
}

const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/**
 * Apollo `formatError`: domain errors keep their code; GraphQL's own request errors pass; everything
 * else is masked and logged once with a correlation id the client can quote.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    if (original instanceof DomainError) {
      return {
        message: original.message,
        path: formatted.path,
        extensions: {
          code: original.code,
          ...(original.field ? { field: original.field } : {}),
          retryable: original.retryable,
        },
      };
    }
    const code = formatted.extensions?.code;
    // A request error passes unless it wraps something unexpected (Apollo's ValidationError wraps
    // graphql-js's own GraphQLError, which is fine to show: e.g. "introspection is not allowed").
    if (
      typeof code === 'string' &&
      PASS_THROUGH.has(code) &&
      !(original instanceof Error && original !== error && !(original instanceof GraphQLError))
    ) {
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code },
      };
    }
    const correlationId = randomUUID();
    logger.error({ err: original, correlationId, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error',
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, correlationId },
    };
  };
}
