import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operators, change requests, activation, sessions and courses, enrollments (the roster moves out of
 * the classes' array into rows), attendance, evaluations and the audit log.
 */
export class Operations1732200000200 implements MigrationInterface {
  name = 'Operations1732200000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE institutions
        ADD COLUMN active boolean NOT NULL DEFAULT false,
        ADD COLUMN activation_changed_at timestamptz,
        ADD COLUMN activation_changed_by text,
        ADD COLUMN rating_count integer NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
        ADD COLUMN rating_sum integer NOT NULL DEFAULT 0,
        ADD CONSTRAINT institutions_rating_range CHECK (rating_sum BETWEEN rating_count AND 5 * rating_count)`);

    await q.query(`
      CREATE TABLE operators (
        id uuid PRIMARY KEY,
        institution_id uuid NOT NULL REFERENCES institutions (id),
        person_id uuid NOT NULL,
        main boolean NOT NULL DEFAULT false,
        enabled boolean NOT NULL DEFAULT true,
        position text CHECK (length(position) BETWEEN 1 AND 50),
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (institution_id, person_id),
        CONSTRAINT operators_main_enabled CHECK (enabled OR NOT main)
      )`);
    // Exactly one main operator (主经办人) per institution: the database is the final word.
    await q.query('CREATE UNIQUE INDEX operators_one_main ON operators (institution_id) WHERE main');
    // A person acts for one institution at a time.
    await q.query('CREATE UNIQUE INDEX operators_one_institution ON operators (person_id) WHERE enabled');

    await q.query(`
      CREATE TABLE institution_change_requests (
        id uuid PRIMARY KEY,
        institution_id uuid NOT NULL REFERENCES institutions (id),
        region_code char(6) NOT NULL,
        state text NOT NULL CHECK (state IN ('SUBMITTED', 'APPROVED', 'REJECTED')),
        name text,
        address text,
        latitude double precision CHECK (latitude BETWEEN -90 AND 90),
        longitude double precision CHECK (longitude BETWEEN -180 AND 180),
        main_operator_person_id uuid,
        add_operator_person_ids uuid[] NOT NULL DEFAULT '{}',
        disable_operator_person_ids uuid[] NOT NULL DEFAULT '{}',
        reason text NOT NULL,
        requested_by text NOT NULL,
        requested_at timestamptz NOT NULL,
        reviewed_by text,
        reviewed_at timestamptz,
        rejection_reason text,
        CONSTRAINT change_requests_location CHECK ((latitude IS NULL) = (longitude IS NULL))
      )`);
    await q.query(
      `CREATE UNIQUE INDEX change_requests_one_pending ON institution_change_requests (institution_id) WHERE state = 'SUBMITTED'`,
    );
    await q.query(
      'CREATE INDEX change_requests_institution ON institution_change_requests (institution_id, id)',
    );
    await q.query(
      'CREATE INDEX change_requests_region ON institution_change_requests (state, region_code, id)',
    );

    await q.query(`
      ALTER TABLE classes
        ADD COLUMN online boolean NOT NULL DEFAULT false,
        ADD COLUMN location_address text,
        ADD COLUMN location_latitude double precision CHECK (location_latitude BETWEEN -90 AND 90),
        ADD COLUMN location_longitude double precision CHECK (location_longitude BETWEEN -180 AND 180),
        ADD COLUMN session_count integer NOT NULL DEFAULT 0 CHECK (session_count >= 0),
        ADD COLUMN enrolled_count integer NOT NULL DEFAULT 0 CHECK (enrolled_count >= 0),
        ADD COLUMN roster_size integer NOT NULL DEFAULT 0 CHECK (roster_size >= 0),
        ADD COLUMN submitted_by text,
        ADD COLUMN rejected_at timestamptz,
        ADD COLUMN rejected_by text,
        ADD COLUMN rejection_reason text,
        ADD CONSTRAINT classes_location CHECK (
          (location_latitude IS NULL) = (location_longitude IS NULL)
          AND (location_latitude IS NULL) = (location_address IS NULL)),
        ADD CONSTRAINT classes_headcount CHECK (enrolled_count <= headcount AND roster_size <= enrolled_count)`);
    await q.query(`CREATE INDEX classes_catalogue ON classes (start_date, id) WHERE state = 'APPROVED'`);
    await q.query('CREATE INDEX classes_region ON classes (state, region_code, id)');

    await q.query(`
      CREATE TABLE courses (
        id uuid PRIMARY KEY,
        class_id uuid NOT NULL REFERENCES classes (id),
        seq integer NOT NULL,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        hours integer NOT NULL CHECK (hours BETWEEN 1 AND 2000),
        description text CHECK (length(description) <= 1000),
        UNIQUE (class_id, seq)
      )`);
    await q.query(`
      CREATE TABLE class_sessions (
        id uuid PRIMARY KEY,
        class_id uuid NOT NULL REFERENCES classes (id),
        seq integer NOT NULL,
        starts_at timestamptz NOT NULL,
        ends_at timestamptz NOT NULL,
        course_id uuid REFERENCES courses (id),
        UNIQUE (class_id, seq),
        CHECK (ends_at > starts_at)
      )`);

    await q.query(`
      CREATE TABLE enrollments (
        id uuid PRIMARY KEY,
        class_id uuid NOT NULL REFERENCES classes (id),
        institution_id uuid NOT NULL REFERENCES institutions (id),
        region_code char(6) NOT NULL,
        person_id uuid NOT NULL,
        source text NOT NULL CHECK (source IN ('ROSTER', 'ONLINE')),
        state text NOT NULL CHECK (state IN ('PENDING_IDENTITY_CHECK', 'ACTIVE', 'REFUSED', 'WITHDRAWN')),
        enrolled_at timestamptz NOT NULL,
        identity_checked_at timestamptz,
        identity_checked_by text,
        attended_sessions integer NOT NULL DEFAULT 0 CHECK (attended_sessions >= 0),
        completion_passed boolean,
        completion_reviewed_by text,
        completion_reviewed_at timestamptz,
        completion_remark text,
        updated_at timestamptz NOT NULL,
        UNIQUE (class_id, person_id),
        CONSTRAINT enrollments_completion CHECK ((completion_passed IS NULL) = (completion_reviewed_at IS NULL))
      )`);
    await q.query('CREATE INDEX enrollments_class ON enrollments (class_id, id)');
    await q.query('CREATE INDEX enrollments_person ON enrollments (person_id, id)');
    await q.query('CREATE INDEX enrollments_institution ON enrollments (institution_id, id)');
    // The roster moves from the class's array into enrollment rows.
    await q.query(`
      INSERT INTO enrollments (id, class_id, institution_id, region_code, person_id, source, state, enrolled_at, updated_at)
      SELECT gen_random_uuid(), c.id, c.institution_id, c.region_code, p.person_id, 'ROSTER', 'ACTIVE', c.created_at, now()
      FROM classes c CROSS JOIN LATERAL unnest(c.roster_person_ids) AS p (person_id)
      ON CONFLICT DO NOTHING`);
    await q.query(`
      UPDATE classes c SET roster_size = n, enrolled_count = n
      FROM (SELECT class_id, count(*)::int AS n FROM enrollments GROUP BY class_id) e WHERE e.class_id = c.id`);
    await q.query('ALTER TABLE classes DROP COLUMN roster_person_ids');

    await q.query(`
      CREATE TABLE attendance (
        id uuid PRIMARY KEY,
        enrollment_id uuid NOT NULL REFERENCES enrollments (id),
        class_id uuid NOT NULL REFERENCES classes (id),
        session_id uuid NOT NULL REFERENCES class_sessions (id),
        person_id uuid NOT NULL,
        method text NOT NULL CHECK (method IN ('LOCATION', 'CLASS_QR', 'OPERATOR_SCAN')),
        outcome text NOT NULL CHECK (outcome IN ('ON_TIME', 'LATE')),
        distance_bucket_m integer CHECK (distance_bucket_m > 0),
        checked_in_at timestamptz NOT NULL,
        recorded_by text,
        CONSTRAINT attendance_bucket CHECK ((method = 'LOCATION') = (distance_bucket_m IS NOT NULL))
      )`);
    // One check-in per person per session.
    await q.query('CREATE UNIQUE INDEX attendance_once ON attendance (session_id, person_id)');
    await q.query('CREATE INDEX attendance_enrollment ON attendance (enrollment_id, id)');
    await q.query('CREATE INDEX attendance_person ON attendance (person_id, id)');

    await q.query(`
      CREATE TABLE evaluations (
        id uuid PRIMARY KEY,
        enrollment_id uuid NOT NULL REFERENCES enrollments (id),
        class_id uuid NOT NULL REFERENCES classes (id),
        institution_id uuid NOT NULL REFERENCES institutions (id),
        direction text NOT NULL CHECK (direction IN ('TRAINEE_TO_INSTITUTION', 'INSTITUTION_TO_TRAINEE')),
        score integer NOT NULL CHECK (score BETWEEN 1 AND 5),
        comment text CHECK (length(comment) <= 500),
        author_id text NOT NULL,
        created_at timestamptz NOT NULL,
        UNIQUE (enrollment_id, direction)
      )`);
    await q.query('CREATE INDEX evaluations_class ON evaluations (class_id, direction)');

    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        at timestamptz NOT NULL,
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        subject_type text NOT NULL,
        subject_id uuid NOT NULL,
        detail jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query('CREATE INDEX audit_log_subject ON audit_log (subject_id, id)');
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER audit_log_append_only ON audit_log');
    await q.query('DROP FUNCTION audit_log_append_only');
    await q.query('DROP TABLE audit_log');
    await q.query('DROP TABLE evaluations');
    await q.query('DROP TABLE attendance');
    await q.query(`ALTER TABLE classes ADD COLUMN roster_person_ids uuid[] NOT NULL DEFAULT '{}'`);
    await q.query(`
      UPDATE classes c SET roster_person_ids = e.ids
      FROM (SELECT class_id, array_agg(person_id ORDER BY enrolled_at) AS ids FROM enrollments
            WHERE source = 'ROSTER' AND state = 'ACTIVE' GROUP BY class_id) e
      WHERE e.class_id = c.id`);
    await q.query('DROP TABLE enrollments');
    await q.query('DROP TABLE class_sessions');
    await q.query('DROP TABLE courses');
    await q.query(`
      ALTER TABLE classes
        DROP CONSTRAINT classes_headcount, DROP CONSTRAINT classes_location,
        DROP COLUMN online, DROP COLUMN location_address, DROP COLUMN location_latitude,
        DROP COLUMN location_longitude, DROP COLUMN session_count, DROP COLUMN enrolled_count,
        DROP COLUMN roster_size, DROP COLUMN submitted_by, DROP COLUMN rejected_at, DROP COLUMN rejected_by,
        DROP COLUMN rejection_reason`);
    await q.query('DROP INDEX IF EXISTS classes_catalogue');
    await q.query('DROP INDEX IF EXISTS classes_region');
    await q.query('DROP TABLE institution_change_requests');
    await q.query('DROP TABLE operators');
    await q.query(`
      ALTER TABLE institutions
        DROP CONSTRAINT institutions_rating_range,
        DROP COLUMN active, DROP COLUMN activation_changed_at, DROP COLUMN activation_changed_by,
        DROP COLUMN rating_count, DROP COLUMN rating_sum`);
  }
}
