import {
  DataSource,
  type EntityManager,
  type EntitySchema,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
import type { Logger } from 'pino';

type EntityTarget = string | (new (...args: never[]) => unknown) | EntitySchema;
type MigrationClass = new () => MigrationInterface;

export interface DataSourceOptions {
  url: string;
  entities: EntityTarget[];
  migrations: MigrationClass[];
  poolSize?: number;
  applicationName?: string;
}

/** TypeORM over pg. Schema changes come only from migrations: `synchronize` is never on. */
export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: opts.entities as never,
    migrations: opts.migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'schema_migrations',
    applicationName: opts.applicationName,
    poolSize: opts.poolSize ?? 10,
    extra: { connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000 },
    logging: false,
  });
}

/** Any stable 64-bit number per database works; this one spells "migr". */
const MIGRATION_LOCK = 0x6d696772;

/**
 * Runs pending migrations under an advisory lock, so replicas starting together (or a Helm hook
 * racing a rollout) migrate once and the others wait, then find nothing to do.
 */
export async function runMigrations(ds: DataSource, logger?: Logger): Promise<string[]> {
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await ds.runMigrations({ transaction: 'each' });
    const names = applied.map((m) => m.name);
    if (names.length) logger?.info({ migrations: names }, 'migrations applied');
    return names;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
}

/** Runs `work` in one transaction; the manager must be used for every write that belongs to it. */
export function inTransaction<T>(ds: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return ds.transaction(work);
}

export type { DataSource, EntityManager, MigrationInterface, QueryRunner };

/**
 * Tables every service needs: the transactional outbox, the consumer inbox and idempotency keys.
 * Each service lists this first in its migrations.
 */
export class KitTables1732200000000 implements MigrationInterface {
  name = 'KitTables1732200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox (
        id uuid PRIMARY KEY,
        topic text NOT NULL,
        key text NOT NULL,
        type text NOT NULL,
        subject text,
        payload bytea NOT NULL,
        headers jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        attempts integer NOT NULL DEFAULT 0,
        published_at timestamptz
      )`);
    await q.query(`CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL`);
    // Wakes the relay as soon as a transaction with events commits (NOTIFY is delivered on commit).
    await q.query(`
      CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$`);
    await q.query(
      `CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()`,
    );
    await q.query(`
      CREATE TABLE inbox (
        consumer text NOT NULL,
        event_id text NOT NULL,
        topic text NOT NULL,
        event_type text NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer, event_id)
      )`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE idempotency_keys');
    await q.query('DROP TABLE inbox');
    await q.query('DROP TRIGGER outbox_notify ON outbox');
    await q.query('DROP FUNCTION outbox_notify');
    await q.query('DROP TABLE outbox');
  }
}
