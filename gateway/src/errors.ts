import { createErrorFormatter, ErrorCode, type Logger } from '@vtv/kit';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { randomUUID } from 'node:crypto';
import { SubgraphUnavailable } from './datasource';

/** Extension keys a subgraph's (already formatted) error may carry through the gateway. */
const SUBGRAPH_EXTENSIONS = ['code', 'field', 'retryable', 'correlationId'];
const CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * The gateway's formatError. Three kinds of error reach it:
 * - a subgraph could not be reached: `UNAVAILABLE`, retryable, with a correlation id in this log;
 * - an error a subgraph returned: the subgraph already masked it (its own correlation id is in its own
 *   log), so its code and message pass, without the subgraph's name or anything else;
 * - the gateway's own: the kit's formatter (domain codes pass, GraphQL request errors pass, the rest is
 *   masked as INTERNAL_SERVER_ERROR with a correlation id in this log).
 */
export function createGatewayErrorFormatter(logger: Logger) {
  const base = createErrorFormatter(logger);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = error instanceof GraphQLError ? error.originalError : error;
    if (original instanceof SubgraphUnavailable) {
      const correlationId = randomUUID();
      logger.error(
        { err: original.cause, subgraph: original.subgraph, correlationId, path: formatted.path },
        'subgraph unavailable',
      );
      return {
        message: 'A service is temporarily unavailable; try again shortly',
        path: formatted.path,
        extensions: { code: ErrorCode.UNAVAILABLE, retryable: true, correlationId },
      };
    }
    const ext = formatted.extensions;
    if (error instanceof GraphQLError && typeof ext?.serviceName === 'string') {
      const code = typeof ext.code === 'string' && CODE.test(ext.code) ? ext.code : undefined;
      if (code && code !== 'DOWNSTREAM_SERVICE_ERROR') {
        const extensions: Record<string, unknown> = {};
        for (const key of SUBGRAPH_EXTENSIONS) if (ext[key] !== undefined) extensions[key] = ext[key];
        return { message: formatted.message, path: formatted.path, extensions };
      }
    }
    return base(formatted, error);
  };
}
