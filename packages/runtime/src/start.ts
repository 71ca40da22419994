import {
  KafkaBus,
  MemoryBus,
  ConsumerRunner,
  OutboxRelay,
  deadLetterTopic,
  type EventBus,
} from '@vtv/events';
import { MemoryCache, RedisCache, type Cache } from '@vtv/cache';
import {
  Health,
  Shutdown,
  TokenVerifier,
  createDataSource,
  createLogger,
  createSubgraphServer,
  loadConfig,
  runMigrations,
  type BaseConfig,
  type Logger,
} from '@vtv/kit';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { ServiceDefinition, ServiceDeps } from './definition';
import type { BackgroundJob } from './jobs';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Shared in-process transport/cache (embedded mode); otherwise built from KAFKA_BROKERS / REDIS_URL. */
  bus?: EventBus;
  cache?: Cache;
  logger?: Logger;
  /** Run the outbox relay in this process (default true). */
  relay?: boolean;
}

export interface RunningService<Services extends object = object, Config extends BaseConfig = BaseConfig> {
  name: string;
  url: string;
  app: Express;
  deps: ServiceDeps<Config>;
  services: Services;
  relay?: OutboxRelay;
  consumer?: ConsumerRunner;
  /** The service's background jobs, running. */
  jobs: BackgroundJob[];
  health: Health;
  stop(reason?: string): Promise<void>;
}

/**
 * Boots one subgraph: config → database + migrations → bus/cache → relay and consumers → HTTP.
 * The same path serves `npm start` (all services in one process), one-process-per-service and tests.
 */
export async function startService<Services extends object, Config extends BaseConfig>(
  def: ServiceDefinition<Services, Config>,
  opts: StartOptions = {},
): Promise<RunningService<Services, Config>> {
  const env = opts.env ?? process.env;
  const config = loadConfig(def.config, env);
  const logger = opts.logger ?? createLogger(def.name, config.LOG_LEVEL);
  const shutdown = new Shutdown(logger, config.SHUTDOWN_GRACE_MS);
  const health = new Health();

  const ds = createDataSource({
    url: config.DATABASE_URL,
    entities: def.entities,
    migrations: def.migrations,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: def.name,
  });
  await ds.initialize();
  try {
    await runMigrations(ds, logger);
  } catch (err) {
    await ds.destroy();
    throw err;
  }

  const ownBus = !opts.bus;
  const bus: EventBus =
    opts.bus ??
    (config.KAFKA_BROKERS
      ? new KafkaBus({
          brokers: config.KAFKA_BROKERS.split(','),
          clientId: def.name,
          logger,
          namespace: config.EVENTS_NAMESPACE,
        })
      : new MemoryBus());
  const ownCache = !opts.cache;
  const cache: Cache =
    opts.cache ??
    (config.REDIS_URL
      ? new RedisCache({ url: config.REDIS_URL, keyPrefix: `${def.name}:` })
      : new MemoryCache());

  const tokens = config.IDENTITY_JWKS_URL
    ? new TokenVerifier({ jwksUrl: config.IDENTITY_JWKS_URL })
    : undefined;
  const deps: ServiceDeps<Config> = { config, ds, bus, cache, logger, tokens };
  const services = await def.services(deps);

  // Only the database gates readiness. Without Redis the services take their database paths; without
  // Kafka writes queue in the outbox and consumers resume from their offsets. Failing readiness for
  // either would take every replica out of its Service at once and turn a degraded platform into a
  // down one, so they are reported ('degraded') instead.
  health.register('database', () => ds.query('SELECT 1'));
  health.register('cache', () => cache.ping(), { critical: false });
  health.register('events', () => bus.ping(), { critical: false });

  let relay: OutboxRelay | undefined;
  if (opts.relay !== false) {
    relay = new OutboxRelay({ ds, databaseUrl: config.DATABASE_URL, bus, logger });
    await relay.start();
  }
  let consumer: ConsumerRunner | undefined;
  if (def.consumes) {
    consumer = new ConsumerRunner({
      ds,
      bus,
      logger,
      group: def.name,
      topics: def.consumes.topics,
      handlers: def.consumes.handlers(deps),
      deadLetterTopic: deadLetterTopic(def.name),
    });
    await consumer.start();
    const c = consumer;
    health.register(
      'consumer',
      async () => {
        if (!c.isHealthy()) throw new Error('consumer not attached to its group');
      },
      { critical: false },
    );
  }

  const jobs = def.jobs?.(deps, services) ?? [];
  for (const job of jobs) await job.start();

  const server = await createSubgraphServer({
    name: def.name,
    typeDefs: def.typeDefs,
    resolvers: def.resolvers,
    logger,
    health,
    internalAuthSecret: config.INTERNAL_AUTH_SECRET,
    context: services,
    production: config.NODE_ENV === 'production',
    routes: def.routes ? (app) => def.routes!(app, services) : undefined,
  });
  await new Promise<void>((resolve) => server.httpServer.listen(config.PORT, config.HOST, resolve));
  const { port } = server.httpServer.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/graphql`;
  logger.info({ url }, `${def.name} ready`);

  // Order matters: stop advertising readiness, drain HTTP, stop consuming and relaying, close pools.
  shutdown
    .add('readiness', async () => health.startDraining())
    .add('http', () => server.apollo.stop())
    .add('consumer', async () => consumer?.stop())
    .add('jobs', () => Promise.all(jobs.map((j) => j.stop())))
    .add('relay', async () => relay?.stop())
    .add('bus', async () => ownBus && bus.close())
    .add('cache', async () => ownCache && cache.close())
    .add('database', () => ds.destroy());

  return {
    name: def.name,
    url,
    app: server.app,
    deps,
    services,
    relay,
    consumer,
    jobs,
    health,
    stop: (reason = 'stop') => shutdown.run(reason),
  };
}
