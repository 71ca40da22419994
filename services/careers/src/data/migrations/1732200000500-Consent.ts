import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Consent1732200000500 implements MigrationInterface {
  name = 'Consent1732200000500';

  async up(q: QueryRunner): Promise<void> {
    // Purpose-, recipient- and time-bound consents (授权同意). A consent is live while not revoked and
    // granted_at <= now < expires_at. Granting again supersedes the open one (revoked_reason SUPERSEDED).
    await q.query(`
      CREATE TABLE consents (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        purpose text NOT NULL CHECK (purpose IN ('JOB_RECOMMENDATION')),
        recipient text NOT NULL CHECK (recipient IN ('CAREERS_JOB_SERVICE')),
        channels text[] NOT NULL CHECK (cardinality(channels) >= 1 AND channels <@ ARRAY['IN_APP', 'SMS']::text[]),
        region_code char(6) CHECK (region_code ~ '^[0-9]{6}$'),
        granted_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text CHECK (revoked_reason IN ('REVOKED', 'SUPERSEDED')),
        CHECK (expires_at > granted_at),
        CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      )`);
    await q.query(`
      CREATE UNIQUE INDEX consents_one_open ON consents (person_id, purpose, recipient) WHERE revoked_at IS NULL`);
    await q.query('CREATE INDEX consents_person ON consents (person_id, id)');
    // Who saw or used a person's data (查询留痕): staff reads of archives and certificates, imports,
    // recommendations and SMS. Append-only: updates and deletes are refused by the database.
    await q.query(`
      CREATE TABLE data_access_log (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        actor_kind text NOT NULL CHECK (actor_kind IN ('person', 'staff', 'client', 'service')),
        actor_id text NOT NULL,
        actor_region char(6),
        action text NOT NULL,
        purpose text,
        detail text NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX data_access_log_person ON data_access_log (person_id, id)');
    await q.query(`
      CREATE FUNCTION data_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'data_access_log is append-only'; END $$`);
    await q.query(`
      CREATE TRIGGER data_access_log_append_only BEFORE UPDATE OR DELETE ON data_access_log
      FOR EACH ROW EXECUTE FUNCTION data_access_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE data_access_log');
    await q.query('DROP FUNCTION data_access_log_append_only');
    await q.query('DROP TABLE consents');
  }
}
