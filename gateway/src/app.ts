import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { MemoryCache, RedisCache, type Cache } from '@vtv/cache';
import {
  Health,
  IDEMPOTENCY_HEADER,
  REQUEST_ID_HEADER,
  TokenVerifier,
  authorizationPlugin,
  collectRequirements,
  type Logger,
  type Requirements,
} from '@vtv/kit';
import { trace } from '@opentelemetry/api';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler } from 'express';
import { parse, type GraphQLSchema } from 'graphql';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { jwksUrl, subgraphUrlOverrides, type GatewayConfig } from './config';
import { SubgraphDataSource, type GatewayContext } from './datasource';
import { createGatewayErrorFormatter } from './errors';
import { graphiqlRouter } from './graphiql';
import { GatewayMetrics } from './metrics';
import { OperationRegistry, sha256 } from './operations';
import { createPipeline, facts, guardedRootFields, type RequestFacts } from './pipeline';
import { RateLimiter } from './rate-limit';
import { Admission } from './admission';
import { SupergraphFile } from './supergraph';
import { VerifiedTokens } from './token-cache';

export type { GatewayContext } from './datasource';

export interface GatewayOptions {
  config: GatewayConfig;
  logger: Logger;
  /** Token verification source; defaults to the JWKS URL from config. */
  verifier?: TokenVerifier;
  /** Rate-limit counters; defaults to Redis at REDIS_URL, else in-process. */
  cache?: Cache;
  /**
   * What /metrics serves (Prometheus text); defaults to this process's registry. A cluster worker passes
   * the whole cluster's view, aggregated by the primary (cluster.ts).
   */
  metricsText?: () => Promise<string>;
}

export interface Gateway {
  app: Express;
  httpServer: Server;
  health: Health;
  metrics: GatewayMetrics;
  supergraph: SupergraphFile;
  registry: OperationRegistry;
  /** Resolves with the number of registered operations whose plans are cached, after each (re)load. */
  warmed(): Promise<number>;
  /** Whether the plan of a registered operation is in the query-plan cache (diagnostics, tests). */
  planCached(operationName: string): Promise<boolean>;
  listen(): Promise<string>;
  stop(): Promise<void>;
}

/** Headers that are never forwarded, whatever PROPAGATE_HEADERS says. */
const NEVER_PROPAGATED = new Set([
  'authorization',
  'cookie',
  'x-vtv-caller',
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'content-type',
  IDEMPOTENCY_HEADER,
  REQUEST_ID_HEADER,
]);
const REQUEST_ID = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Private parts of ApolloGateway the plan warm-up uses (checked at run time; skipped if absent). */
interface GatewayInternals {
  apiSchema?: Parameters<typeof operationFromDocument>[0];
  queryPlanner?: {
    buildQueryPlan(
      operation: ReturnType<typeof operationFromDocument>,
      options: { recursiveSelectionsLimitDisabled: boolean; nonLocalSelectionsLimitDisabled: boolean },
    ): unknown;
  };
  queryPlanStore?: { get(key: string): Promise<unknown>; set(key: string, value: unknown): Promise<void> };
}

/** ApolloGateway's plan-cache key: sha256(queryHash + operationName), or the query hash alone. */
const planKey = (body: string, operationName?: string) =>
  operationName ? sha256(sha256(body) + operationName) : sha256(body);

export async function createGateway({
  config,
  logger,
  verifier,
  cache,
  metricsText,
}: GatewayOptions): Promise<Gateway> {
  // ApolloGateway otherwise reports host details to Apollo's servers every hour.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  const production = config.NODE_ENV === 'production';
  const enforce = config.TRUSTED_OPERATIONS === 'enforce';
  const metrics = new GatewayMetrics();
  const registry = OperationRegistry.load(config.OPERATION_MANIFESTS, enforce);
  const supergraph = new SupergraphFile(config.SUPERGRAPH_PATH, logger, metrics, config.SUPERGRAPH_WATCH);
  const overrides = subgraphUrlOverrides(config);
  const dataSources = new Set<SubgraphDataSource>();

  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.hook,
    logger: logger.child({ component: 'apollo-gateway' }),
    __exposeQueryPlanExperimental: config.NODE_ENV === 'development',
    buildService: ({ name, url }) => {
      const ds = new SubgraphDataSource({
        name,
        url: overrides[name] ?? url!,
        secret: config.INTERNAL_AUTH_SECRET,
        metrics,
        timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
        maxSockets: config.SUBGRAPH_MAX_SOCKETS,
        deduplicate: config.SUBGRAPH_DEDUPLICATE_QUERIES,
      });
      dataSources.add(ds);
      return ds;
    },
  });

  // Derived from each loaded supergraph: the API schema, authorization requirements, guarded fields.
  let apiSchema: GraphQLSchema | undefined;
  let requirements: Requirements = new Map();
  let guarded: ReadonlySet<string> = new Set();
  let subgraphUrls: string[] = [];
  let warming: Promise<number> = Promise.resolve(0);
  const internals = gateway as unknown as GatewayInternals;

  const warmQueryPlans = async (): Promise<number> => {
    const { apiSchema: schema, queryPlanner, queryPlanStore } = internals;
    if (!schema || !queryPlanner || !queryPlanStore) {
      logger.warn('query-plan warm-up skipped: ApolloGateway internals not found');
      return 0;
    }
    let n = 0;
    for (const op of registry.all()) {
      try {
        const operation = operationFromDocument(schema, parse(op.body), { operationName: op.name });
        const plan = queryPlanner.buildQueryPlan(operation, {
          recursiveSelectionsLimitDisabled: false,
          nonLocalSelectionsLimitDisabled: false,
        });
        await queryPlanStore.set(planKey(op.body, op.name), plan);
        await queryPlanStore.set(planKey(op.body), plan);
        n += 1;
      } catch (err) {
        logger.warn({ err, operation: op.name }, 'registered operation does not plan against the supergraph');
      }
    }
    logger.info({ operations: n }, 'query plans warmed');
    return n;
  };

  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema, coreSupergraphSdl }) => {
    apiSchema = schema;
    requirements = collectRequirements(parse(coreSupergraphSdl));
    guarded = guardedRootFields(
      schema,
      config.RATE_LIMIT_GUARDED_ARGUMENTS,
      config.RATE_LIMIT_GUARDED_FIELDS,
    );
    subgraphUrls = Supergraph.build(coreSupergraphSdl)
      .subgraphsMetadata()
      .map((s) => overrides[s.name] ?? s.url);
    // After the listeners: the gateway clears its plan cache and swaps planners before calling them.
    warming = new Promise((resolve) => setImmediate(() => resolve(warmQueryPlans())));
  });

  const jwks = jwksUrl(config);
  const verifying =
    verifier ??
    (jwks
      ? new TokenVerifier(
          { jwksUrl: jwks },
          { cacheMaxAgeMs: config.JWKS_CACHE_MAX_AGE_MS, cooldownMs: config.JWKS_COOLDOWN_MS },
        )
      : undefined);
  const tokens =
    verifying && new VerifiedTokens(verifying, config.TOKEN_CACHE_SIZE, config.TOKEN_CACHE_MAX_AGE_MS);
  const ownCache = !cache;
  const counters: Cache =
    cache ??
    (config.REDIS_URL ? new RedisCache({ url: config.REDIS_URL, keyPrefix: 'gateway:' }) : new MemoryCache());
  const limiter = new RateLimiter(counters, logger);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  const httpServer = createServer(app);

  const observation: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          if (response.body.kind !== 'single') return;
          for (const e of response.body.singleResult.errors ?? [])
            contextValue.observation.errorCodes.push(String(e.extensions?.code ?? 'UNKNOWN'));
        },
      };
    },
  };

  const apollo = new ApolloServer<GatewayContext>({
    // The process's own ordered shutdown handles SIGTERM; Apollo's handler would re-raise the signal mid-drain.
    stopOnTerminationSignals: false,
    gateway,
    formatError: createGatewayErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    // No "Did you mean …?" in production: suggestions leak the schema piece by piece.
    hideSchemaDetailsFromClientErrors: production,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Trusted operations are resolved before Apollo; automatic persisted queries would let any client
    // register documents.
    persistedQueries: false,
    parseOptions: { maxTokens: config.MAX_TOKENS },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: config.SHUTDOWN_GRACE_MS }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      authorizationPlugin<GatewayContext>(() => requirements),
      observation,
    ],
  });
  await apollo.start();

  const health = new Health();
  health.register('supergraph', async () => {
    if (!apiSchema) throw new Error('no supergraph loaded');
  });
  if (config.READINESS_CHECKS_SUBGRAPHS) {
    // Reported, not gating: a subgraph down costs its own fields (partial data), and gating on it would
    // take every gateway replica, and so the whole graph, out of service.
    health.register(
      'subgraphs',
      async () => {
        const failing: string[] = [];
        await Promise.all(
          subgraphUrls.map(async (url) => {
            try {
              const res = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(1_500) });
              await res.body?.cancel();
              if (!res.ok) failing.push(new URL(url).host);
            } catch {
              failing.push(new URL(url).host);
            }
          }),
        );
        if (failing.length) throw new Error(`not ready: ${failing.sort().join(', ')}`);
      },
      { critical: false },
    );
  }
  app.use(health.router());
  if (config.METRICS) {
    app.get('/metrics', async (_req, res) => {
      if (!metricsText)
        return void res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
      try {
        res.type(metrics.registry.contentType).send(await metricsText());
      } catch (err) {
        logger.warn({ err }, 'cluster metrics unavailable');
        res.status(503).type('text/plain').send('metrics unavailable\n');
      }
    });
  }
  if (config.GRAPHIQL) {
    app.use(graphiqlRouter());
    app.get('/graphql', (req, res, next) => {
      if (req.accepts(['application/json', 'application/graphql-response+json', 'html']) === 'html')
        return res.redirect('/graphiql');
      next();
    });
  }

  const access = logger.child({ component: 'access' });
  const observe: RequestHandler = (req, res, next) => {
    const started = performance.now();
    const given = req.header(REQUEST_ID_HEADER);
    const requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.locals.observation = { errorCodes: [] } satisfies GatewayContext['observation'];
    res.locals.facts = {
      caller: { kind: 'anonymous', permissions: [] },
      operationLabel: 'unknown',
    } satisfies RequestFacts;
    res.setHeader(REQUEST_ID_HEADER, requestId);
    const traceId = trace.getActiveSpan()?.spanContext().traceId;
    // Server time goes out as Server-Timing, set just before the headers are written.
    const writeHead = res.writeHead;
    res.writeHead = function (this: typeof res, ...args: Parameters<typeof writeHead>) {
      if (!res.headersSent)
        res.setHeader('server-timing', `gateway;dur=${(performance.now() - started).toFixed(2)}`);
      return writeHead.apply(this, args);
    } as typeof writeHead;
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const f = facts(res);
      const codes = (res.locals.observation as GatewayContext['observation']).errorCodes;
      const outcome =
        f.rejected || (res.statusCode >= 400 && res.statusCode < 500)
          ? 'rejected'
          : res.statusCode >= 500 || codes.length
            ? 'error'
            : 'ok';
      const labels = { operation: f.operationLabel, type: f.operationType ?? 'unknown', outcome };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      for (const code of codes) metrics.errors.inc({ operation: f.operationLabel, code });
      // Personal data stays out: no address, no caller id, no query text or variables.
      access.info(
        {
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          durationMs: Math.round(seconds * 100_000) / 100,
          operation: f.operationLabel,
          operationType: f.operationType,
          operationId: f.registered?.id,
          caller: f.caller.kind,
          requestId,
          traceId,
          outcome,
          ...(f.rejected ? { rejected: f.rejected } : {}),
          ...(codes.length ? { errorCodes: codes } : {}),
        },
        'graphql request',
      );
    });
    next();
  };

  const bodyErrors: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, _next) => {
    if (err.type === 'entity.too.large') {
      metrics.rejections.inc({ reason: 'body-size' });
      facts(res).rejected = 'body-size';
      return void res
        .status(413)
        .json({ errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    }
    if (err.type === 'entity.parse.failed') {
      facts(res).rejected = 'bad-json';
      return void res
        .status(400)
        .json({ errors: [{ message: 'Body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
    }
    const correlationId = randomUUID();
    logger.error({ err, correlationId }, 'gateway request failed');
    res.status(500).json({
      errors: [
        { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId } },
      ],
    });
  };

  const propagate = (req: Request): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const name of config.PROPAGATE_HEADERS) {
      const key = name.toLowerCase();
      const value = req.header(key);
      if (value && value.length <= 1024 && !NEVER_PROPAGATED.has(key)) out[key] = value;
    }
    return out;
  };

  const admission = new Admission(
    {
      maxConcurrent: config.MAX_CONCURRENT_REQUESTS,
      maxQueued: config.MAX_QUEUED_REQUESTS,
      queueTimeoutMs: config.QUEUE_TIMEOUT_MS,
    },
    metrics,
  );
  app.use(
    '/graphql',
    observe,
    admission.middleware(),
    express.json({ limit: config.MAX_BODY_BYTES }),
    ...createPipeline({
      config,
      logger,
      metrics,
      tokens,
      registry,
      limiter,
      schema: () => apiSchema,
      guarded: () => guarded,
    }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => ({
        caller: facts(res).caller,
        requestId: res.locals.requestId as string,
        idempotencyKey: req.header(IDEMPOTENCY_HEADER) ?? undefined,
        propagated: propagate(req),
        operationLabel: facts(res).operationLabel,
        operationType: facts(res).operationType,
        observation: res.locals.observation as GatewayContext['observation'],
      }),
    }),
    bodyErrors,
  );

  return {
    app,
    httpServer,
    health,
    metrics,
    supergraph,
    registry,
    warmed: () => warming,
    planCached: async (operationName) => {
      const op = registry.all().find((o) => o.name === operationName);
      if (!op || !internals.queryPlanStore) return false;
      return (await internals.queryPlanStore.get(planKey(op.body, op.name))) !== undefined;
    },
    listen: async () => {
      await new Promise<void>((resolve) => httpServer.listen(config.PORT, config.HOST, resolve));
      const { port } = httpServer.address() as AddressInfo;
      return `http://127.0.0.1:${port}/graphql`;
    },
    stop: async () => {
      health.startDraining();
      await apollo.stop();
      supergraph.close();
      for (const ds of dataSources) ds.close();
      if (ownCache) await counters.close();
    },
  };
}
