import { ApolloServer, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import express, { type Express } from 'express';
import type { DocumentNode } from 'graphql';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { CALLER_HEADER, verifyCaller } from './caller';
import { IDEMPOTENCY_HEADER, REQUEST_ID_HEADER, type RequestContext } from './context';
import type { DomainError } from './errors';
import { createErrorFormatter } from './errors';
import type { Health } from './health';
import { authorizationPlugin, collectRequirements } from './authz';

export interface SubgraphServerOptions<Extra extends object> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<RequestContext & Extra>;
  logger: Logger;
  health: Health;
  internalAuthSecret: string;
  /** Per-request additions to the context (the service's domain services). */
  context: Extra;
  production?: boolean;
  /** Extra plain HTTP routes, mounted before /graphql and outside the gateway check (e.g. a JWKS). */
  routes?: (app: Express) => void;
}

export interface SubgraphServer {
  app: Express;
  httpServer: Server;
  apollo: ApolloServer<RequestContext & BaseContext>;
}

/**
 * Builds a subgraph's HTTP server without listening: /healthz, /readyz and /graphql. Every GraphQL
 * request must carry the gateway's signed caller header; anything else is refused with 401 before
 * parsing, so a subgraph exposed by mistake does not answer the world.
 */
export async function createSubgraphServer<Extra extends object>(
  o: SubgraphServerOptions<Extra>,
): Promise<SubgraphServer> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  // Tracing is OpenTelemetry's job; Apollo's inline (ftv1) traces would only add overhead.
  // @authenticated / @requiresScopes in this subgraph's schema are enforced here too (the gateway
  // checks them against the supergraph first): defence in depth if a subgraph is reached otherwise.
  const requirements = collectRequirements(o.typeDefs);
  const plugins: ApolloServerPlugin<RequestContext>[] = [
    ApolloServerPluginDrainHttpServer({ httpServer }),
    ApolloServerPluginInlineTraceDisabled(),
    authorizationPlugin<RequestContext>(() => requirements),
  ];
  if (o.production) plugins.push(ApolloServerPluginLandingPageDisabled());
  const apollo = new ApolloServer<RequestContext>({
    // The process's own ordered shutdown handles SIGTERM; Apollo's handler would re-raise the signal mid-drain.
    stopOnTerminationSignals: false,
    schema: buildSubgraphSchema([
      { typeDefs: o.typeDefs, resolvers: o.resolvers as GraphQLResolverMap<unknown> },
    ]),
    formatError: createErrorFormatter(o.logger),
    includeStacktraceInErrorResponses: false,
    introspection: !o.production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    plugins,
  });
  await apollo.start();

  app.use(o.health.router());
  o.routes?.(app);
  app.use(
    '/graphql',
    (_req, res, next) => {
      // A request that arrives once the drain began (on a kept-alive connection, or read just after the
      // listener closed) is refused before it runs: the HTTP drain half-closes idle connections and does
      // not wait for such a request, so its answer could be lost after its effect was committed. A 503
      // tells the client (the gateway) that nothing happened and a retry elsewhere is safe.
      if (!o.health.isDraining()) return next();
      res.setHeader('connection', 'close');
      res.setHeader('retry-after', '1');
      res.status(503).json({
        errors: [
          {
            message: 'The service is shutting down; retry the request',
            extensions: { code: 'UNAVAILABLE', retryable: true },
          },
        ],
      });
    },
    (req, res, next) => {
      try {
        res.locals.caller = verifyCaller(req.header(CALLER_HEADER), o.internalAuthSecret);
        next();
      } catch (err) {
        const e = err as DomainError;
        res.status(401).json({ errors: [{ message: e.message, extensions: { code: e.code } }] });
      }
    },
    express.json({ limit: '256kb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = req.header(REQUEST_ID_HEADER) ?? randomUUID();
        return {
          ...o.context,
          caller: res.locals.caller,
          requestId,
          idempotencyKey: req.header(IDEMPOTENCY_HEADER) ?? undefined,
          logger: o.logger.child({ requestId }),
        };
      },
    }),
  );
  return { app, httpServer, apollo };
}
