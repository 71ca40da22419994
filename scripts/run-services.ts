/**
 * `npm run start:services`: every subgraph and the gateway as its own process against real PostgreSQL,
 * Redis and Kafka (from the environment or .infra.env; run `npm run infra -- up` first). Creates the
 * per-service databases and the topics, then supervises the children; Ctrl-C stops them all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { KafkaBus, allTopicSpecs, SERVICES } from '@vtv/events';
import { createLogger } from '@vtv/kit';
import { infraEnv } from '@vtv/testing';
import { databaseUrlFor, ensureDatabases } from './lib/stack';

const root = join(__dirname, '..');
const PORTS: Record<string, number> = {
  identity: 4001,
  vouchers: 4002,
  training: 4003,
  settlement: 4004,
  careers: 4005,
};

async function main(): Promise<void> {
  const infra = infraEnv();
  const secret = process.env.INTERNAL_AUTH_SECRET ?? 'local-development-secret-change-me-0123456789';
  await ensureDatabases(infra.DATABASE_URL, [...SERVICES]);
  const admin = new KafkaBus({
    brokers: infra.KAFKA_BROKERS.split(','),
    clientId: 'platform-admin',
    logger: createLogger('platform', 'warn'),
  });
  await admin.ensureTopics(allTopicSpecs());
  await admin.close();

  const children: ChildProcess[] = [];
  const run = (name: string, entry: string, env: NodeJS.ProcessEnv) => {
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [entry], {
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    child.on('exit', (code) => code && console.error(`${name} exited with ${code}`));
    children.push(child);
  };
  for (const name of SERVICES) {
    run(name, join(root, 'services', name, 'src', 'main.ts'), {
      PORT: String(PORTS[name]),
      DATABASE_URL: databaseUrlFor(infra.DATABASE_URL, name),
      REDIS_URL: infra.REDIS_URL,
      KAFKA_BROKERS: infra.KAFKA_BROKERS,
      INTERNAL_AUTH_SECRET: secret,
      OTEL_SERVICE_NAME: name,
      IDENTITY_JWKS_URL: `http://127.0.0.1:${PORTS.identity}/.well-known/jwks.json`,
    });
  }
  // The gateway fetches identity's JWKS lazily, so it can start alongside the subgraphs.
  run('gateway', join(root, 'gateway', 'src', 'main.ts'), {
    PORT: process.env.PORT ?? '4000',
    INTERNAL_AUTH_SECRET: secret,
    SUPERGRAPH_PATH: join(root, 'schema', 'supergraph.graphql'),
    JWKS_URL: `http://127.0.0.1:${PORTS.identity}/.well-known/jwks.json`,
  });
  const stop = () => children.forEach((c) => c.kill('SIGTERM'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
