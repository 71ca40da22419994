/**
 * The migration entry point the Helm hook Job runs (service/src/migrate.ts in the image), against the
 * real PostgreSQL: a fresh database gets every migration, a second run finds nothing to do, and a bad
 * environment exits 78 (EX_CONFIG) before touching anything.
 */
import { createTestDatabase, type TestDatabase } from '@vtv/testing';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { ROOT, SUBGRAPHS } from './render';

const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');

function migrate(
  service: string,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(tsx, [join(ROOT, 'services', service, 'src', 'migrate.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', LOG_LEVEL: 'info', ...env },
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function appliedMigrations(url: string): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY id');
    return rows.map((r) => r.name);
  } finally {
    await client.end();
  }
}

describe.each(SUBGRAPHS)('%s/src/migrate.ts', (service) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(`migrate_${service}`);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('applies every migration of the service, then finds nothing to do', async () => {
    const { migrations } = (await import(`../../services/${service}/src/data/migrations`)) as {
      migrations: (new () => { name?: string })[];
    };
    const first = await migrate(service, { DATABASE_URL: db.url });
    expect([first.code, first.output]).toEqual([0, expect.stringContaining('schema is current')]);
    const applied = await appliedMigrations(db.url);
    expect(applied).toHaveLength(migrations.length);

    const second = await migrate(service, { DATABASE_URL: db.url });
    expect(second.code).toBe(0);
    expect(await appliedMigrations(db.url)).toEqual(applied);
  });

  it('exits 78 naming the problem when DATABASE_URL is missing or wrong', async () => {
    const missing = await migrate(service, {});
    expect(missing.code).toBe(78);
    expect(missing.output).toContain('DATABASE_URL: is required');
    const wrong = await migrate(service, { DATABASE_URL: 'mysql://nope' });
    expect(wrong.code).toBe(78);
    expect(wrong.output).toContain('DATABASE_URL');
  });
});
