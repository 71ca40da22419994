import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Recommendations1732200000600 implements MigrationInterface {
  name = 'Recommendations1732200000600';

  async up(q: QueryRunner): Promise<void> {
    // Job recommendations (岗位推介) made under a consent; withdrawn when the consent is revoked.
    await q.query(`
      CREATE TABLE recommendations (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        job_posting_id uuid NOT NULL REFERENCES job_postings (id),
        consent_id uuid NOT NULL REFERENCES consents (id),
        basis_kind text NOT NULL CHECK (basis_kind IN ('CERTIFICATE', 'TRAINING')),
        basis_id text NOT NULL,
        basis_occupation text NOT NULL,
        basis_level text,
        explanation text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        withdrawn_at timestamptz
      )`);
    await q.query(`
      CREATE UNIQUE INDEX recommendations_live ON recommendations (person_id, job_posting_id)
      WHERE withdrawn_at IS NULL`);
    await q.query('CREATE INDEX recommendations_person ON recommendations (person_id, id)');
    // The in-app inbox (站内信).
    await q.query(`
      CREATE TABLE inbox_messages (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('JOB_RECOMMENDATION')),
        title text NOT NULL,
        body text NOT NULL,
        recommendation_id uuid REFERENCES recommendations (id),
        job_posting_id uuid REFERENCES job_postings (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz
      )`);
    await q.query('CREATE INDEX inbox_messages_person ON inbox_messages (person_id, id)');
    await q.query('CREATE INDEX inbox_messages_unread ON inbox_messages (person_id) WHERE read_at IS NULL');
    // SMS outbox (短信): a row per message, sent by the SMS job with retries. The row id is the
    // idempotency key the provider sees. No phone numbers: the provider resolves the person id.
    await q.query(`
      CREATE TABLE sms_messages (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        template text NOT NULL CHECK (template IN ('JOB_RECOMMENDATION')),
        params jsonb NOT NULL,
        consent_id uuid NOT NULL REFERENCES consents (id),
        recommendation_ids uuid[] NOT NULL DEFAULT '{}',
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED', 'CANCELLED')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        provider_message_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz,
        finished_at timestamptz,
        CHECK ((status = 'SENT') = (sent_at IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX sms_messages_due ON sms_messages (next_attempt_at) WHERE status = 'PENDING'`);
    await q.query(
      `CREATE INDEX sms_messages_sent ON sms_messages (person_id, sent_at) WHERE status = 'SENT'`,
    );
    await q.query('CREATE INDEX sms_messages_person ON sms_messages (person_id, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE sms_messages');
    await q.query('DROP TABLE inbox_messages');
    await q.query('DROP TABLE recommendations');
  }
}
