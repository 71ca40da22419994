/**
 * The benchmarked platform: each subgraph and the gateway as its own process (so each has its own event
 * loop and its RSS can be read), on fresh databases `<prefix><name>` and a private Kafka namespace, torn
 * down afterwards. Identity signs with a key the bench also holds, so the bench mints tokens and proofs.
 */
import { KafkaBus, allTopicSpecs } from '@vtv/events';
import { TokenIssuer, createLogger, generateSigningKey } from '@vtv/kit';
import { spawnTs, type ManagedProcess } from '@vtv/testing';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { SERVICES, databaseUrlFor, ensureDatabases } from '../lib/stack';

export const ROOT = join(__dirname, '..', '..');
export const SECRET = 'bench-internal-auth-secret-0123456789abcdef';

export interface Proc {
  name: string;
  url: string;
  proc: ManagedProcess;
}

export interface Platform {
  prefix: string;
  namespace: string;
  issuer: TokenIssuer;
  services: Record<string, Proc>;
  gateway?: Proc;
  extra: Proc[];
  dbUrl(service: string): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitReady(url: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2_000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface PlatformOptions {
  databaseUrl: string;
  redisUrl: string;
  kafkaBrokers: string;
  prefix: string;
  namespace: string;
  /** Extra environment for every process (e.g. NODE_OPTIONS=--cpu-prof). */
  env?: Record<string, string>;
  vouchersEnv?: Record<string, string>;
}

export async function startPlatform(o: PlatformOptions): Promise<Platform> {
  const logger = createLogger('bench', 'warn');
  const key = await generateSigningKey();
  const issuer = new TokenIssuer([key], 3600);
  await ensureDatabases(
    o.databaseUrl,
    SERVICES.map((s) => `${o.prefix}${s.name}`),
  );
  const admin = new KafkaBus({
    brokers: o.kafkaBrokers.split(','),
    clientId: 'bench-admin',
    logger,
    namespace: o.namespace,
  });
  await admin.ensureTopics(allTopicSpecs());
  await admin.close();

  const services: Record<string, Proc> = {};
  const extra: Proc[] = [];
  const platform: Platform = {
    prefix: o.prefix,
    namespace: o.namespace,
    issuer,
    services,
    extra,
    dbUrl: (s) => databaseUrlFor(o.databaseUrl, `${o.prefix}${s}`),
    stop: async () => {
      const all = [...extra, ...(platform.gateway ? [platform.gateway] : []), ...Object.values(services)];
      for (const p of all) p.proc.kill('SIGTERM');
      await Promise.all(
        all.map((p) =>
          Promise.race([p.proc.exited, new Promise((r) => setTimeout(r, 20_000))]).then(() =>
            p.proc.kill('SIGKILL'),
          ),
        ),
      );
      const cleaner = new KafkaBus({
        brokers: o.kafkaBrokers.split(','),
        clientId: 'bench-admin',
        logger,
        namespace: o.namespace,
      });
      await cleaner.deleteNamespace(SERVICES.map((s) => s.name)).catch(() => undefined);
      await cleaner.close();
      const c = new Client({ connectionString: o.databaseUrl });
      await c.connect();
      try {
        for (const s of SERVICES)
          await c.query(`DROP DATABASE IF EXISTS "${o.prefix}${s.name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };

  const common = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    REDIS_URL: o.redisUrl,
    KAFKA_BROKERS: o.kafkaBrokers,
    EVENTS_NAMESPACE: o.namespace,
    INTERNAL_AUTH_SECRET: SECRET,
    HOST: '127.0.0.1',
    ...o.env,
  };
  try {
    let jwks = '';
    for (const def of SERVICES) {
      const port = await freePort();
      const env: Record<string, string> = {
        ...common,
        PORT: String(port),
        OTEL_SERVICE_NAME: def.name,
        DATABASE_URL: platform.dbUrl(def.name),
        ...(def.name === 'identity' ? { TOKEN_SIGNING_KEYS: JSON.stringify([key.privateJwk]) } : {}),
        ...(jwks ? { IDENTITY_JWKS_URL: jwks } : {}),
        ...(def.name === 'vouchers' ? o.vouchersEnv : {}),
      };
      const url = `http://127.0.0.1:${port}`;
      const proc = spawnTs(join(ROOT, 'services', def.name, 'src', 'main.ts'), env);
      services[def.name] = { name: def.name, url: `${url}/graphql`, proc };
      if (def.name === 'identity') {
        jwks = `${url}/.well-known/jwks.json`;
        await waitReady(url);
      }
    }
    await Promise.all(Object.values(services).map((s) => waitReady(new URL(s.url).origin)));
  } catch (err) {
    await platform.stop().catch(() => undefined);
    throw err;
  }
  return platform;
}

export async function startGateway(
  platform: Platform,
  o: { redisUrl: string; manifests: string[]; env?: Record<string, string>; name?: string },
): Promise<Proc> {
  const port = await freePort();
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    INTERNAL_AUTH_SECRET: SECRET,
    REDIS_URL: o.redisUrl,
    SUPERGRAPH_PATH: join(ROOT, 'schema', 'supergraph.graphql'),
    SUPERGRAPH_WATCH: 'false',
    OPERATION_MANIFESTS: o.manifests.join(','),
    JWKS_URL: new URL('/.well-known/jwks.json', platform.services.identity!.url).toString(),
    // The production limiter stays on (its Redis round trips are part of the cost), with limits no
    // benchmark client reaches: every request comes from one address and a few operators.
    RATE_LIMIT_PRINCIPAL: '100000000/60s',
    RATE_LIMIT_OPERATION: '100000000/60s',
    RATE_LIMIT_GUARDED: '100000000/60s',
    RATE_LIMIT_GUARDED_PER_ADDRESS: '100000000/60s',
    ...Object.fromEntries(
      Object.values(platform.services).map((s) => [`${s.name.toUpperCase()}_URL`, s.url]),
    ),
    ...o.env,
  };
  const proc = spawnTs(join(ROOT, 'gateway', 'src', 'main.ts'), env);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url);
  return { name: o.name ?? 'gateway', url: `${url}/graphql`, proc };
}

/** Resident set size (MiB) of the process tree under `pid` (e.g. a cluster primary and its workers). */
export function rssMiB(pid: number): { server: number; tree: number } {
  const rss = (p: number) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  };
  const children = (p: number): number[] => {
    const out: number[] = [];
    try {
      for (const t of readdirSync(`/proc/${p}/task`)) {
        const list = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim();
        if (list) out.push(...list.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
    return out;
  };
  const all: number[] = [];
  const walk = (p: number) => {
    all.push(p);
    for (const c of children(p)) walk(c);
  };
  walk(pid);
  const sizes = all.map(rss);
  return {
    server: Math.round(Math.max(...sizes)),
    tree: Math.round(sizes.reduce((a, b) => a + b, 0)),
  };
}
