import {
  ApolloGateway,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import {
  ANONYMOUS,
  CALLER_HEADER,
  DomainError,
  Health,
  IDEMPOTENCY_HEADER,
  REQUEST_ID_HEADER,
  TokenVerifier,
  createErrorFormatter,
  signCaller,
  type Caller,
  type Logger,
} from '@vtv/kit';
import express, { type Express } from 'express';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { subgraphUrlOverrides, jwksUrl, type GatewayConfig } from './config';

export interface GatewayContext {
  caller: Caller;
  requestId: string;
  idempotencyKey?: string;
}

/** Forwards the verified caller to subgraphs as a short-lived signed header they can trust. */
class SignedCallerDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly secret: string,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const ctx = context as Partial<GatewayContext>;
    request.http?.headers.set(CALLER_HEADER, signCaller(ctx.caller ?? ANONYMOUS, this.secret));
    if (ctx.requestId) request.http?.headers.set(REQUEST_ID_HEADER, ctx.requestId);
    if (ctx.idempotencyKey) request.http?.headers.set(IDEMPOTENCY_HEADER, ctx.idempotencyKey);
  }
}

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Token verification source; defaults to the JWKS URL from config. */
  verifier?: TokenVerifier;
}

export interface Gateway {
  app: Express;
  httpServer: Server;
  health: Health;
  listen(): Promise<string>;
  stop(): Promise<void>;
}

export async function createGateway({ config, logger, verifier }: GatewayOptions): Promise<Gateway> {
  const supergraphSdl = readFileSync(config.SUPERGRAPH_PATH, 'utf8');
  const overrides = subgraphUrlOverrides(config);
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new SignedCallerDataSource(overrides[name] ?? url!, config.INTERNAL_AUTH_SECRET),
  });
  const jwks = jwksUrl(config);
  const tokens = verifier ?? (jwks ? new TokenVerifier({ jwksUrl: jwks }) : undefined);

  const app = express();
  app.disable('x-powered-by');
  const httpServer = createServer(app);
  const production = config.NODE_ENV === 'production';
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: createErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ...(production ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();

  const health = new Health();
  health.register('supergraph', async () => {
    if (!supergraphSdl) throw new Error('no supergraph loaded');
  });
  app.use(health.router());
  app.use(
    '/graphql',
    async (req, res, next) => {
      const auth = req.header('authorization');
      if (!auth) {
        res.locals.caller = ANONYMOUS;
        return next();
      }
      const token = /^Bearer ([A-Za-z0-9_.-]{10,4096})$/.exec(auth)?.[1];
      try {
        if (!token || !tokens) throw new DomainError('UNAUTHENTICATED', 'Invalid or expired access token');
        res.locals.caller = await tokens.verify(token);
        next();
      } catch (err) {
        const e = err as DomainError;
        res.status(401).json({ errors: [{ message: e.message, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
    },
    express.json({ limit: '256kb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => ({
        caller: res.locals.caller as Caller,
        requestId: req.header(REQUEST_ID_HEADER) ?? randomUUID(),
        idempotencyKey: req.header(IDEMPOTENCY_HEADER) ?? undefined,
      }),
    }),
  );

  return {
    app,
    httpServer,
    health,
    listen: async () => {
      await new Promise<void>((resolve) => httpServer.listen(config.PORT, config.HOST, resolve));
      const { port } = httpServer.address() as AddressInfo;
      return `http://127.0.0.1:${port}/graphql`;
    },
    stop: async () => {
      health.startDraining();
      await apollo.stop();
    },
  };
}
