/**
 * Starts the whole platform in one process: five subgraphs and the gateway. Used by `npm start`
 * (embedded), by `npm run start:services`' sibling tooling and by the end-to-end tests. Each service
 * still gets its own database, its own outbox relay and consumer group, exactly as when run apart.
 */
import { MemoryCache, type Cache } from '@vtv/cache';
import { KafkaBus, MemoryBus, allTopicSpecs, type EventBus } from '@vtv/events';
import { createLogger, loadConfig, type Logger } from '@vtv/kit';
import { startService, type AnyServiceDefinition, type RunningService } from '@vtv/runtime';
import { Client } from 'pg';
import { join } from 'node:path';
import { createGateway, type Gateway } from '../../gateway/src/app';
import { gatewayConfig } from '../../gateway/src/config';
import { identity } from '../../services/identity/src/service';
import { vouchers } from '../../services/vouchers/src/service';
import { training } from '../../services/training/src/service';
import { settlement } from '../../services/settlement/src/service';
import { careers } from '../../services/careers/src/service';

export const SERVICES: AnyServiceDefinition[] = [identity, vouchers, training, settlement, careers];

export interface StackOptions {
  /** A URL to the PostgreSQL server (any database); each service gets `<prefix><name>`. */
  databaseUrl: string;
  databasePrefix?: string;
  /** Absent: the in-process bus shared by all services. */
  kafkaBrokers?: string;
  /** Absent: an in-process cache shared by all services. */
  redisUrl?: string;
  /** Kafka topic/group prefix, so parallel test runs share one broker safely. */
  eventsNamespace?: string;
  gatewayPort?: number;
  /** 0 picks free ports; otherwise services listen on their default ports. */
  servicePorts?: 'default' | 0;
  internalAuthSecret?: string;
  logLevel?: string;
  nodeEnv?: 'development' | 'test' | 'production';
  /** The gateway's logger (tests capture it to find correlation ids). */
  gatewayLogger?: Logger;
  /** Extra gateway environment (e.g. NODE_ENV=production, TRUSTED_OPERATIONS, rate limits). */
  gatewayEnv?: Record<string, string>;
  /** Extra environment per service name (e.g. identity: BOOTSTRAP_ADMIN_*, careers: SMS_PROVIDER_URL). */
  serviceEnv?: Record<string, Record<string, string>>;
  /** Tests: delete the namespace's topics and groups, and drop the databases, on stop. */
  disposable?: boolean;
  logger?: Logger;
}

export interface Stack {
  gatewayUrl: string;
  gateway: Gateway;
  services: Record<string, RunningService>;
  bus?: EventBus;
  stop(): Promise<void>;
}

export function databaseUrlFor(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

export async function ensureDatabases(serverUrl: string, names: string[]): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
    const existing = new Set(rows.map((r) => r.datname));
    for (const name of names) if (!existing.has(name)) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const logger = o.logger ?? createLogger('platform', o.logLevel ?? 'info');
  const secret = o.internalAuthSecret ?? 'local-development-secret-change-me-0123456789';
  const prefix = o.databasePrefix ?? '';
  await ensureDatabases(
    o.databaseUrl,
    SERVICES.map((s) => `${prefix}${s.name}`),
  );

  // Shared in-process transports in embedded mode; per-service Kafka/Redis clients otherwise.
  const bus: EventBus | undefined = o.kafkaBrokers ? undefined : new MemoryBus();
  const cache: Cache | undefined = o.redisUrl ? undefined : new MemoryCache();
  if (o.kafkaBrokers) {
    const admin = new KafkaBus({
      brokers: o.kafkaBrokers.split(','),
      clientId: 'platform-admin',
      logger,
      namespace: o.eventsNamespace,
    });
    try {
      await admin.ensureTopics(allTopicSpecs());
    } finally {
      await admin.close();
    }
  }

  const envFor = (def: AnyServiceDefinition): NodeJS.ProcessEnv => ({
    NODE_ENV: o.nodeEnv ?? 'development',
    LOG_LEVEL: o.logLevel ?? 'info',
    DATABASE_URL: databaseUrlFor(o.databaseUrl, `${prefix}${def.name}`),
    INTERNAL_AUTH_SECRET: secret,
    ...(o.servicePorts === 0 ? { PORT: '0' } : {}),
    ...(o.kafkaBrokers ? { KAFKA_BROKERS: o.kafkaBrokers } : {}),
    ...(o.redisUrl ? { REDIS_URL: o.redisUrl } : {}),
    ...(o.eventsNamespace ? { EVENTS_NAMESPACE: o.eventsNamespace } : {}),
    ...(process.env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT }
      : {}),
  });

  const started: RunningService[] = [];
  try {
    // Identity first: the others verify tokens and proofs against its JWKS.
    for (const def of SERVICES) {
      const jwks = started[0]
        ? { IDENTITY_JWKS_URL: new URL('/.well-known/jwks.json', started[0].url).toString() }
        : {};
      const env = { ...envFor(def), ...jwks, ...o.serviceEnv?.[def.name] };
      started.push(await startService(def, { env, bus, cache }));
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.stop('startup failed')));
    throw err;
  }
  const services = Object.fromEntries(started.map((s) => [s.name, s]));
  const identityUrl = services.identity!.url;

  const config = loadConfig(gatewayConfig, {
    NODE_ENV: o.nodeEnv ?? 'development',
    PORT: String(o.gatewayPort ?? 4000),
    SUPERGRAPH_PATH: join(__dirname, '..', '..', 'schema', 'supergraph.graphql'),
    OPERATION_MANIFESTS: join(__dirname, '..', '..', 'schema', 'operations', 'manifest.json'),
    INTERNAL_AUTH_SECRET: secret,
    JWKS_URL: new URL('/.well-known/jwks.json', identityUrl).toString(),
    ...(o.redisUrl ? { REDIS_URL: o.redisUrl } : {}),
    ...Object.fromEntries(started.map((s) => [`${s.name.toUpperCase()}_URL`, s.url])),
    ...o.gatewayEnv,
  });
  const gateway = await createGateway({
    config,
    logger: o.gatewayLogger ?? createLogger('gateway', o.logLevel ?? 'info'),
  });
  const gatewayUrl = await gateway.listen();

  return {
    gatewayUrl,
    gateway,
    services,
    bus,
    stop: async () => {
      await gateway.stop();
      await Promise.allSettled(started.map((s) => s.stop('stack stop')));
      await bus?.close();
      await cache?.close();
      if (o.disposable) await dispose(o, prefix, logger);
    },
  };
}

/** Removes what a disposable (test) stack created: its Kafka namespace and its databases. */
async function dispose(o: StackOptions, prefix: string, logger: Logger): Promise<void> {
  if (o.kafkaBrokers && o.eventsNamespace) {
    const admin = new KafkaBus({
      brokers: o.kafkaBrokers.split(','),
      clientId: 'platform-admin',
      logger,
      namespace: o.eventsNamespace,
    });
    await admin.deleteNamespace(SERVICES.map((s) => s.name)).catch(() => undefined);
    await admin.close();
  }
  if (!prefix) return; // Never drop unprefixed (real) databases.
  const client = new Client({ connectionString: o.databaseUrl });
  await client.connect();
  try {
    for (const s of SERVICES) await client.query(`DROP DATABASE IF EXISTS "${prefix}${s.name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
