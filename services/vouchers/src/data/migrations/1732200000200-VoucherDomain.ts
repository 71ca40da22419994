import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The voucher domain: rules inherited down the region tree, directed batches with their review, general
 * templates and claims, the lifecycle with its append-only transition log (which is also the fact table
 * statistics read), single-use QR token ids, projections of other domains' facts, quotas and the audit log.
 */
export class VoucherDomain1732200000200 implements MigrationInterface {
  name = 'VoucherDomain1732200000200';

  async up(q: QueryRunner): Promise<void> {
    // Append-only tables refuse UPDATE and DELETE, whoever asks.
    await q.query(`
      CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$`);

    // Projection of training's approved classes (was classes_awaiting_issuance).
    await q.query('ALTER TABLE classes_awaiting_issuance RENAME TO approved_classes');
    await q.query('ALTER INDEX classes_awaiting_region RENAME TO approved_classes_awaiting');
    await q.query(`ALTER TABLE approved_classes ADD COLUMN level text,
      ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);

    await q.query(`
      CREATE TABLE issuance_rules (
        region_code char(6) PRIMARY KEY,
        review_mode text CHECK (review_mode IN ('NONE', 'SINGLE', 'TWO_LEVEL')),
        flow text CHECK (flow IN ('MANUAL', 'AUTO')),
        validity_end text CHECK (validity_end IN ('CLASS_START_DATE', 'CLASS_END_DATE')),
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE face_value_rules (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL,
        training_type text NOT NULL,
        function_mode text CHECK (function_mode IN ('FACE_VALUE', 'DEDUCTION')),
        certificate_type text,
        certificate_level text,
        subsidy_amount_fen integer CHECK (subsidy_amount_fen > 0),
        valid_from date,
        valid_to date,
        shortage_occupation boolean,
        remark text,
        eligible_population text,
        updated_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to),
        UNIQUE (region_code, training_type)
      )`);

    await q.query(`
      CREATE TABLE voucher_batches (
        id uuid PRIMARY KEY,
        class_id uuid NOT NULL REFERENCES approved_classes (class_id),
        institution_id uuid NOT NULL,
        region_code char(6) NOT NULL,
        name text NOT NULL,
        state text NOT NULL CHECK (state IN ('DRAFT', 'PENDING_REVIEW', 'PENDING_FIRST_REVIEW',
          'PENDING_SECOND_REVIEW', 'APPROVED', 'ISSUED', 'AWAITING_SUPPLEMENT', 'INVALIDATED')),
        quantity integer NOT NULL CHECK (quantity >= 0),
        issued_count integer NOT NULL DEFAULT 0 CHECK (issued_count >= 0),
        function_mode text NOT NULL CHECK (function_mode IN ('FACE_VALUE', 'DEDUCTION')),
        business_mode text CHECK (business_mode IN ('POPULAR', 'UPGRADE')),
        face_value_fen integer CHECK (face_value_fen > 0),
        training_type text NOT NULL,
        occupation text NOT NULL,
        certificate_level text,
        eligible_population text,
        validity_end text CHECK (validity_end IN ('CLASS_START_DATE', 'CLASS_END_DATE')),
        valid_until timestamptz NOT NULL,
        review_mode text NOT NULL CHECK (review_mode IN ('NONE', 'SINGLE', 'TWO_LEVEL')),
        flow text NOT NULL CHECK (flow IN ('MANUAL', 'AUTO')),
        national_template_code text,
        national_template_name text,
        first_reviewer_id text,
        first_reviewed_at timestamptz,
        second_reviewer_id text,
        second_reviewed_at timestamptz,
        rejection_reason text,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        issued_at timestamptz,
        invalidated_at timestamptz,
        invalidated_by text,
        invalidation_reason text,
        CHECK ((function_mode = 'FACE_VALUE') = (face_value_fen IS NOT NULL)),
        -- Two-level review by two different people: the database refuses anything else.
        CHECK (second_reviewer_id IS NULL OR second_reviewer_id <> first_reviewer_id)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX voucher_batches_live_class ON voucher_batches (class_id) WHERE state <> 'INVALIDATED'`,
    );
    await q.query(
      'CREATE INDEX voucher_batches_region ON voucher_batches (region_code bpchar_pattern_ops, id)',
    );
    await q.query(
      'CREATE INDEX voucher_batches_state ON voucher_batches (state, region_code bpchar_pattern_ops, id)',
    );
    await q.query(`
      CREATE TABLE voucher_batch_transitions (
        id uuid PRIMARY KEY,
        batch_id uuid NOT NULL REFERENCES voucher_batches (id),
        from_state text,
        to_state text NOT NULL,
        actor_id text NOT NULL,
        reason text,
        at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX voucher_batch_transitions_batch ON voucher_batch_transitions (batch_id, id)');

    await q.query(`
      CREATE TABLE voucher_templates (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL,
        name text NOT NULL,
        state text NOT NULL CHECK (state IN ('ACTIVE', 'CLOSED')),
        function_mode text NOT NULL CHECK (function_mode IN ('FACE_VALUE', 'DEDUCTION')),
        business_mode text CHECK (business_mode IN ('POPULAR', 'UPGRADE')),
        face_value_fen integer CHECK (face_value_fen > 0),
        training_type text NOT NULL,
        occupation text,
        quantity integer NOT NULL CHECK (quantity > 0),
        -- Never more claims than the quantity: the conditional UPDATE and this CHECK are the final word.
        claimed integer NOT NULL DEFAULT 0 CHECK (claimed >= 0 AND claimed <= quantity),
        claim_starts_at timestamptz NOT NULL,
        claim_ends_at timestamptz NOT NULL,
        validity_type text NOT NULL CHECK (validity_type IN ('FIXED_END', 'DAYS_AFTER_CLAIM')),
        valid_until timestamptz,
        valid_days integer CHECK (valid_days > 0),
        eligible_region_code char(6) NOT NULL,
        min_age integer CHECK (min_age >= 0),
        max_age integer CHECK (max_age >= 0),
        target_groups text[] NOT NULL DEFAULT '{}',
        audience_only boolean NOT NULL DEFAULT false,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        closed_by text,
        close_reason text,
        CHECK (claim_starts_at < claim_ends_at),
        CHECK ((function_mode = 'FACE_VALUE') = (face_value_fen IS NOT NULL)),
        CHECK ((validity_type = 'FIXED_END' AND valid_until IS NOT NULL AND valid_days IS NULL)
            OR (validity_type = 'DAYS_AFTER_CLAIM' AND valid_days IS NOT NULL AND valid_until IS NULL)),
        CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
      )`);
    await q.query(
      'CREATE INDEX voucher_templates_region ON voucher_templates (region_code bpchar_pattern_ops, id)',
    );
    await q.query(`
      CREATE TABLE voucher_template_audience (
        template_id uuid NOT NULL REFERENCES voucher_templates (id),
        person_id uuid NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (template_id, person_id)
      )`);

    await q.query(`ALTER TABLE vouchers
      ADD COLUMN kind text NOT NULL DEFAULT 'DIRECTED' CHECK (kind IN ('DIRECTED', 'GENERAL')),
      ADD COLUMN batch_id uuid REFERENCES voucher_batches (id),
      ADD COLUMN template_id uuid REFERENCES voucher_templates (id),
      ADD COLUMN institution_id uuid,
      ADD COLUMN function_mode text NOT NULL DEFAULT 'FACE_VALUE' CHECK (function_mode IN ('FACE_VALUE', 'DEDUCTION')),
      ADD COLUMN business_mode text CHECK (business_mode IN ('POPULAR', 'UPGRADE')),
      ADD COLUMN training_type text NOT NULL DEFAULT '',
      ADD COLUMN occupation text,
      ADD COLUMN certificate_level text,
      ADD COLUMN code_digest bytea UNIQUE,
      ADD COLUMN code_hint text,
      ADD COLUMN valid_from timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN valid_until timestamptz NOT NULL DEFAULT 'infinity',
      ADD COLUMN used_at timestamptz,
      ADD COLUMN used_institution_id uuid,
      ADD COLUMN used_class_id uuid,
      ADD COLUMN used_enrollment_id uuid,
      ADD COLUMN used_by text,
      ADD COLUMN used_channel text CHECK (used_channel IN ('QR', 'CODE', 'ONLINE', 'ENROLLMENT')),
      ADD COLUMN settled_at timestamptz,
      ADD COLUMN disbursement_id uuid,
      ADD COLUMN ended_at timestamptz,
      ADD COLUMN end_reason text,
      ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
      ADD CHECK ((kind = 'GENERAL') = (template_id IS NOT NULL)),
      ADD CHECK (state NOT IN ('USED', 'SETTLED') OR used_at IS NOT NULL),
      ADD CHECK (state <> 'SETTLED' OR settled_at IS NOT NULL)`);
    // Rows from before this migration keep the defaults above; new rows always state them.
    await q.query(`ALTER TABLE vouchers ALTER COLUMN training_type DROP DEFAULT,
      ALTER COLUMN valid_until DROP DEFAULT, ALTER COLUMN kind DROP DEFAULT`);
    // One claim per person per template; one voucher per roster member per batch.
    await q.query(
      'CREATE UNIQUE INDEX vouchers_one_claim ON vouchers (template_id, holder_person_id) WHERE template_id IS NOT NULL',
    );
    await q.query(
      'CREATE UNIQUE INDEX vouchers_one_per_member ON vouchers (batch_id, holder_person_id) WHERE batch_id IS NOT NULL',
    );
    await q.query(`CREATE INDEX vouchers_due ON vouchers (valid_until) WHERE state = 'HELD'`);
    await q.query(
      `CREATE INDEX vouchers_held_region ON vouchers (region_code bpchar_pattern_ops) WHERE state = 'HELD'`,
    );
    await q.query('CREATE INDEX vouchers_region ON vouchers (region_code bpchar_pattern_ops, id)');
    await q.query(
      'CREATE INDEX vouchers_used_class ON vouchers (used_class_id, holder_person_id) WHERE used_class_id IS NOT NULL',
    );

    // Every transition (issue included), with the dimensions statistics group by.
    await q.query(`
      CREATE TABLE voucher_transitions (
        id uuid PRIMARY KEY,
        voucher_id uuid NOT NULL,
        from_state text,
        to_state text NOT NULL,
        at timestamptz NOT NULL,
        actor_kind text NOT NULL CHECK (actor_kind IN ('PERSON', 'OPERATOR', 'STAFF', 'SYSTEM')),
        actor_id text NOT NULL,
        reason text,
        region_code char(6) NOT NULL,
        kind text NOT NULL,
        training_type text NOT NULL,
        function_mode text NOT NULL,
        face_value_fen integer,
        institution_id uuid,
        class_id uuid,
        enrollment_id uuid,
        batch_id uuid,
        template_id uuid,
        disbursement_id uuid
      )`);
    await q.query('CREATE INDEX voucher_transitions_voucher ON voucher_transitions (voucher_id, id)');
    await q.query(`CREATE INDEX voucher_transitions_stats ON voucher_transitions
      (region_code bpchar_pattern_ops, at) INCLUDE (to_state, kind, training_type, institution_id, face_value_fen)`);

    // A dynamic QR token is accepted once: its id lands here in the redeeming transaction.
    await q.query(`
      CREATE TABLE redeemed_tokens (
        jti uuid PRIMARY KEY,
        voucher_id uuid NOT NULL,
        redeemed_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX redeemed_tokens_age ON redeemed_tokens (redeemed_at)');

    // Projections of other domains' facts.
    await q.query(`
      CREATE TABLE people (
        person_id uuid PRIMARY KEY,
        region_code char(6) NOT NULL,
        birth_year integer,
        card_issued_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE institutions (
        institution_id uuid PRIMARY KEY,
        region_code char(6) NOT NULL,
        active boolean NOT NULL,
        changed_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE operators (
        institution_id uuid NOT NULL,
        person_id uuid NOT NULL,
        enabled boolean NOT NULL,
        main boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (institution_id, person_id)
      )`);
    await q.query(`
      CREATE TABLE enrollments (
        enrollment_id uuid PRIMARY KEY,
        class_id uuid NOT NULL,
        institution_id uuid NOT NULL,
        person_id uuid NOT NULL,
        region_code char(6) NOT NULL,
        training_type text NOT NULL,
        occupation text NOT NULL,
        online boolean NOT NULL,
        enrolled_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE quota_targets (
        year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
        region_code char(6) NOT NULL,
        issued_target integer NOT NULL CHECK (issued_target >= 0),
        used_target integer NOT NULL CHECK (used_target >= 0),
        source text NOT NULL,
        updated_by text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (year, region_code)
      )`);

    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor_kind text NOT NULL,
        actor_id text NOT NULL,
        action text NOT NULL,
        subject_type text NOT NULL,
        subject_id text NOT NULL,
        region_code char(6),
        detail jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query('CREATE INDEX audit_log_subject ON audit_log (subject_type, subject_id, id)');

    for (const table of ['voucher_transitions', 'voucher_batch_transitions', 'audit_log']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION append_only()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_log',
      'quota_targets',
      'enrollments',
      'operators',
      'institutions',
      'people',
      'redeemed_tokens',
      'voucher_transitions',
    ])
      await q.query(`DROP TABLE ${table}`);
    await q.query(`ALTER TABLE vouchers DROP COLUMN kind, DROP COLUMN batch_id, DROP COLUMN template_id,
      DROP COLUMN institution_id, DROP COLUMN function_mode, DROP COLUMN business_mode, DROP COLUMN training_type,
      DROP COLUMN occupation, DROP COLUMN certificate_level, DROP COLUMN code_digest, DROP COLUMN code_hint,
      DROP COLUMN valid_from, DROP COLUMN valid_until, DROP COLUMN used_at, DROP COLUMN used_institution_id,
      DROP COLUMN used_class_id, DROP COLUMN used_enrollment_id, DROP COLUMN used_by, DROP COLUMN used_channel,
      DROP COLUMN settled_at, DROP COLUMN disbursement_id, DROP COLUMN ended_at, DROP COLUMN end_reason,
      DROP COLUMN updated_at`);
    for (const table of [
      'voucher_template_audience',
      'voucher_templates',
      'voucher_batch_transitions',
      'voucher_batches',
      'face_value_rules',
      'issuance_rules',
    ])
      await q.query(`DROP TABLE ${table}`);
    await q.query('ALTER TABLE approved_classes DROP COLUMN level, DROP COLUMN updated_at');
    await q.query('ALTER INDEX approved_classes_awaiting RENAME TO classes_awaiting_region');
    await q.query('ALTER TABLE approved_classes RENAME TO classes_awaiting_issuance');
    await q.query('DROP FUNCTION append_only');
  }
}
