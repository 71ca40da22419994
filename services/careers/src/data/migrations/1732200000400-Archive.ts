import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Frozen with this migration (the entity's list may grow in later migrations). */
const ARCHIVE_ENTRY_TYPES = [
  'TRAINING_PLANNED',
  'ENROLLED',
  'ATTENDANCE',
  'COMPLETION_PASSED',
  'COMPLETION_FAILED',
  'VOUCHER_ISSUED',
  'VOUCHER_USED',
  'VOUCHER_SETTLED',
  'VOUCHER_EXPIRED',
  'VOUCHER_INVALIDATED',
  'CERTIFICATE',
] as const;

export class Archive1732200000400 implements MigrationInterface {
  name = 'Archive1732200000400';

  async up(q: QueryRunner): Promise<void> {
    // Facts about classes and enrollments from training, kept to describe later events (an attendance
    // event names neither the class nor its region). Class names are not personal data.
    await q.query(`
      CREATE TABLE known_classes (
        class_id text PRIMARY KEY,
        institution_id text NOT NULL,
        region_code char(6) NOT NULL,
        name text NOT NULL,
        occupation text NOT NULL,
        training_type text NOT NULL,
        level text,
        start_date text,
        end_date text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE known_enrollments (
        enrollment_id text PRIMARY KEY,
        person_id uuid NOT NULL,
        class_id text NOT NULL,
        institution_id text NOT NULL,
        region_code char(6) NOT NULL,
        occupation text NOT NULL,
        training_type text NOT NULL,
        online boolean NOT NULL,
        enrolled_at timestamptz NOT NULL
      )`);
    // Completion results (结业审核): the training half of a person's qualifications.
    await q.query(`
      CREATE TABLE completions (
        enrollment_id text PRIMARY KEY,
        person_id uuid NOT NULL,
        class_id text NOT NULL,
        region_code char(6) NOT NULL,
        occupation text NOT NULL,
        level text CHECK (level IN ('LEVEL_5', 'LEVEL_4', 'LEVEL_3', 'LEVEL_2', 'LEVEL_1')),
        passed boolean NOT NULL,
        recorded_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX completions_person ON completions (person_id) WHERE passed');
    // The lifelong training e-archive (终身职业技能培训电子档案): one row per fact about a person, from
    // training, vouchers and careers' own certificates. Summaries never hold names, ID numbers, phones
    // or voucher codes.
    await q.query(`
      CREATE TABLE archive_entries (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        type text NOT NULL CHECK (type IN (${ARCHIVE_ENTRY_TYPES.map((t) => `'${t}'`).join(', ')})),
        occurred_at timestamptz NOT NULL,
        region_code char(6) CHECK (region_code ~ '^[0-9]{6}$'),
        occupation text,
        training_type text,
        level text,
        class_id text,
        institution_id text,
        enrollment_id text,
        voucher_id text,
        certificate_id uuid,
        face_value_fen bigint,
        attendance_rate_bp integer,
        passed boolean,
        summary text NOT NULL,
        source_event_id text NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT archive_entries_source_key UNIQUE (source_event_id, person_id, type)
      )`);
    await q.query('CREATE INDEX archive_entries_person ON archive_entries (person_id, occurred_at, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE archive_entries');
    await q.query('DROP TABLE completions');
    await q.query('DROP TABLE known_enrollments');
    await q.query('DROP TABLE known_classes');
  }
}
