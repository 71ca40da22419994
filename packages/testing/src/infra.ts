import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { randomBytes } from 'node:crypto';

export interface InfraEnv {
  DATABASE_URL: string;
  REDIS_URL: string;
  KAFKA_BROKERS: string;
}

const ROOT = join(__dirname, '..', '..', '..');

/**
 * The real infrastructure tests run against: from the environment, else from the .infra.env that
 * `scripts/infra.sh up` writes. Fails loudly rather than letting a test fall back to fakes.
 */
export function infraEnv(): InfraEnv {
  const fromFile: Record<string, string> = {};
  const file = join(ROOT, '.infra.env');
  if (existsSync(file)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^export (\w+)=(.*)$/gm))
      fromFile[m[1]!] = m[2]!.trim();
  }
  const pick = (name: keyof InfraEnv) => {
    const v = process.env[name] || fromFile[name];
    if (!v) throw new Error(`${name} is not set and .infra.env has none: run 'npm run infra -- up' first`);
    return v;
  };
  return {
    DATABASE_URL: pick('DATABASE_URL'),
    REDIS_URL: pick('REDIS_URL'),
    KAFKA_BROKERS: pick('KAFKA_BROKERS'),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`.toLowerCase();
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty database on the real server; dropped (with any leftover connections) afterwards. */
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const admin = infraEnv().DATABASE_URL;
  const name = uniqueName(prefix);
  const client = new Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  return {
    name,
    url: withDatabase(admin, name),
    drop: async () => {
      const c = new Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
