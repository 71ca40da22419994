import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The settlement domain proper: evidence projections (from vouchers, training and careers events),
 * application lines, review rules and subsidy standards, the double-entry budget ledger, settled
 * vouchers and the append-only audit trail.
 */
export class Settlement1732200000300 implements MigrationInterface {
  name = 'Settlement1732200000300';

  async up(q: QueryRunner): Promise<void> {
    // ── Evidence projections. Ids of other services' aggregates: no foreign keys across databases. ──
    await q.query(`
      CREATE TABLE evidence_classes (
        class_id uuid PRIMARY KEY,
        institution_id uuid NOT NULL,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        name text NOT NULL,
        occupation text NOT NULL,
        training_type text NOT NULL,
        level text NOT NULL DEFAULT '',
        start_date text NOT NULL DEFAULT '',
        end_date text NOT NULL DEFAULT '',
        approved_at timestamptz NOT NULL
      )`);
    await q.query('CREATE INDEX evidence_classes_institution ON evidence_classes (institution_id)');

    await q.query(`
      CREATE TABLE evidence_institutions (
        institution_id uuid PRIMARY KEY,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        active boolean NOT NULL,
        changed_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE evidence_operators (
        institution_id uuid NOT NULL,
        person_id uuid NOT NULL,
        enabled boolean NOT NULL,
        main boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        PRIMARY KEY (institution_id, person_id)
      )`);
    await q.query('CREATE INDEX evidence_operators_person ON evidence_operators (person_id)');

    await q.query(`
      CREATE TABLE evidence_vouchers (
        voucher_id uuid PRIMARY KEY,
        holder_person_id uuid,
        region_code text NOT NULL DEFAULT '',
        function_mode text CHECK (function_mode IN ('FACE_VALUE', 'DEDUCTION')),
        face_value_fen bigint NOT NULL DEFAULT 0 CHECK (face_value_fen >= 0),
        training_type text NOT NULL DEFAULT '',
        occupation text NOT NULL DEFAULT '',
        state text NOT NULL CHECK (state IN ('HELD', 'USED', 'SETTLED', 'EXPIRED', 'INVALIDATED')),
        institution_id uuid,
        class_id uuid,
        enrollment_id uuid,
        used_at timestamptz,
        state_changed_at timestamptz NOT NULL
      )`);

    await q.query(`
      CREATE TABLE evidence_enrollments (
        enrollment_id uuid PRIMARY KEY,
        class_id uuid NOT NULL,
        person_id uuid NOT NULL,
        institution_id uuid,
        enrolled_at timestamptz,
        attendance_rate_bp integer CHECK (attendance_rate_bp BETWEEN 0 AND 10000),
        attendance_at timestamptz,
        passed boolean,
        final_attendance_rate_bp integer CHECK (final_attendance_rate_bp BETWEEN 0 AND 10000),
        completed_at timestamptz
      )`);
    await q.query(
      'CREATE INDEX evidence_enrollments_class_person ON evidence_enrollments (class_id, person_id)',
    );

    await q.query(`
      CREATE TABLE evidence_certificates (
        certificate_id uuid PRIMARY KEY,
        person_id uuid NOT NULL,
        region_code text NOT NULL DEFAULT '',
        kind text NOT NULL DEFAULT '',
        occupation text NOT NULL DEFAULT '',
        level text NOT NULL DEFAULT '',
        issued_at timestamptz
      )`);
    await q.query('CREATE INDEX evidence_certificates_person ON evidence_certificates (person_id)');

    // ── Applications. ──
    await q.query(`
      ALTER TABLE subsidy_applications
        ADD COLUMN created_by uuid,
        ADD COLUMN review_mode text CHECK (review_mode IN ('SINGLE', 'TWO_LEVEL')),
        ADD COLUMN anomaly_count integer NOT NULL DEFAULT 0 CHECK (anomaly_count >= 0),
        ADD COLUMN evaluated_at timestamptz,
        ADD COLUMN standard_fen bigint CHECK (standard_fen > 0),
        ADD COLUMN first_reviewed_by uuid,
        ADD COLUMN first_reviewed_at timestamptz,
        ADD COLUMN final_reviewed_by uuid,
        ADD COLUMN final_reviewed_at timestamptz,
        ADD COLUMN rejected_by uuid,
        ADD COLUMN rejected_at timestamptz,
        ADD COLUMN rejection_reason text,
        ADD COLUMN approved_amount_fen bigint CHECK (approved_amount_fen >= 0),
        ADD COLUMN approved_line_count integer CHECK (approved_line_count >= 0),
        ADD COLUMN budget_region_code char(6),
        ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
        ADD CONSTRAINT subsidy_applications_two_reviewers
          CHECK (first_reviewed_by IS NULL OR final_reviewed_by IS NULL OR first_reviewed_by <> final_reviewed_by),
        ADD CONSTRAINT subsidy_applications_approved_amount
          CHECK (state NOT IN ('APPROVED', 'PAID') OR (approved_amount_fen > 0 AND budget_region_code IS NOT NULL))`);
    await q.query('CREATE INDEX subsidy_applications_state ON subsidy_applications (state, region_code)');

    // One line per trainee voucher. holds_voucher is false exactly while the application is REJECTED:
    // a voucher is in at most one application that is not rejected.
    await q.query(`
      CREATE TABLE subsidy_application_lines (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL REFERENCES subsidy_applications (id),
        person_id uuid NOT NULL,
        voucher_id uuid NOT NULL,
        certificate_number text CHECK (length(certificate_number) BETWEEN 1 AND 64),
        holds_voucher boolean NOT NULL DEFAULT true,
        voucher_state text,
        function_mode text CHECK (function_mode IN ('FACE_VALUE', 'DEDUCTION')),
        face_value_fen bigint CHECK (face_value_fen >= 0),
        used_at_institution_id uuid,
        used_at timestamptz,
        attendance_rate_bp integer,
        passed boolean,
        completed_at timestamptz,
        certificate_ids uuid[] NOT NULL DEFAULT '{}',
        standard_fen bigint CHECK (standard_fen > 0),
        amount_fen bigint NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
        anomalies jsonb NOT NULL DEFAULT '[]'::jsonb,
        first_decision text CHECK (first_decision IN ('APPROVED', 'EXCLUDED')),
        first_decision_reason text,
        decision text CHECK (decision IN ('APPROVED', 'EXCLUDED')),
        decision_reason text,
        approved_amount_fen bigint CHECK (approved_amount_fen >= 0),
        UNIQUE (application_id, voucher_id)
      )`);
    await q.query(
      `CREATE UNIQUE INDEX subsidy_application_lines_voucher_held
         ON subsidy_application_lines (voucher_id) WHERE holds_voucher`,
    );
    await q.query(
      'CREATE INDEX subsidy_application_lines_page ON subsidy_application_lines (application_id, id)',
    );
    await q.query('CREATE INDEX subsidy_application_lines_person ON subsidy_application_lines (person_id)');

    // ── Rules maintained by staff, inherited down the region tree. ──
    await q.query(`
      CREATE TABLE review_rules (
        region_code char(6) PRIMARY KEY CHECK (region_code ~ '^[0-9]{6}$'),
        mode text NOT NULL CHECK (mode IN ('SINGLE', 'TWO_LEVEL')),
        updated_by uuid NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE subsidy_standards (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        training_type text NOT NULL CHECK (length(training_type) BETWEEN 1 AND 50),
        level text NOT NULL DEFAULT '' CHECK (length(level) <= 20),
        amount_fen bigint NOT NULL CHECK (amount_fen > 0 AND amount_fen <= 100000000),
        updated_by uuid NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (region_code, training_type, level)
      )`);

    // ── Double-entry budget ledger. Amounts are signed fen: debits positive, credits negative. ──
    await q.query(`
      CREATE TABLE ledger_accounts (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        kind text NOT NULL CHECK (kind IN ('FUNDING', 'BUDGET_AVAILABLE', 'COMMITTED', 'PAID')),
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (region_code, kind)
      )`);
    await q.query(`
      CREATE TABLE journal_entries (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL,
        kind text NOT NULL CHECK (kind IN ('ALLOCATION', 'COMMITMENT', 'PAYMENT')),
        application_id uuid REFERENCES subsidy_applications (id),
        memo text,
        actor_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((kind = 'ALLOCATION') = (application_id IS NULL))
      )`);
    // An application is committed once and paid once, whatever the retries.
    await q.query(
      `CREATE UNIQUE INDEX journal_entries_once ON journal_entries (application_id, kind)
         WHERE application_id IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE journal_lines (
        id bigserial PRIMARY KEY,
        entry_id uuid NOT NULL REFERENCES journal_entries (id),
        account_id uuid NOT NULL REFERENCES ledger_accounts (id),
        amount_fen bigint NOT NULL CHECK (amount_fen <> 0),
        institution_id uuid
      )`);
    await q.query('CREATE INDEX journal_lines_entry ON journal_lines (entry_id)');
    await q.query('CREATE INDEX journal_lines_account ON journal_lines (account_id)');
    await q.query(
      'CREATE INDEX journal_lines_institution ON journal_lines (institution_id) WHERE institution_id IS NOT NULL',
    );
    // Every entry balances: checked at commit, once all of the entry's lines are in.
    await q.query(`
      CREATE FUNCTION journal_entry_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE total numeric;
      BEGIN
        SELECT coalesce(sum(amount_fen), 0) INTO total FROM journal_lines WHERE entry_id = NEW.entry_id;
        IF total <> 0 THEN
          RAISE EXCEPTION 'journal entry % does not balance: lines sum to %', NEW.entry_id, total
            USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(`
      CREATE CONSTRAINT TRIGGER journal_lines_balanced AFTER INSERT ON journal_lines
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION journal_entry_balanced()`);
    // Append-only: the ledger and the audit trail are corrected by new entries, never rewritten.
    await q.query(`
      CREATE FUNCTION refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const table of ['journal_entries', 'journal_lines']) {
      await q.query(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
           FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()`,
      );
    }

    // ── Payment. ──
    await q.query(`
      ALTER TABLE disbursements
        ADD COLUMN budget_region_code char(6),
        ADD COLUMN voucher_count integer NOT NULL DEFAULT 0 CHECK (voucher_count >= 0),
        ADD COLUMN disbursed_by uuid`);
    // The last word on "never pay a voucher twice", across every application there ever was.
    await q.query(`
      CREATE TABLE settled_vouchers (
        voucher_id uuid PRIMARY KEY,
        application_id uuid NOT NULL REFERENCES subsidy_applications (id),
        disbursement_id uuid NOT NULL REFERENCES disbursements (id),
        amount_fen bigint NOT NULL CHECK (amount_fen > 0),
        settled_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX settled_vouchers_application ON settled_vouchers (application_id)');

    // ── Audit trail of every decision, payment and rule change. ──
    await q.query(`
      CREATE TABLE settlement_audit (
        id uuid PRIMARY KEY,
        action text NOT NULL,
        actor_id uuid,
        actor_kind text NOT NULL,
        application_id uuid,
        region_code text,
        reason text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        at timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await q.query(
      'CREATE INDEX settlement_audit_application ON settlement_audit (application_id, id) WHERE application_id IS NOT NULL',
    );
    await q.query(
      `CREATE TRIGGER settlement_audit_append_only BEFORE UPDATE OR DELETE ON settlement_audit
         FOR EACH ROW EXECUTE FUNCTION refuse_rewrite()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE settlement_audit');
    await q.query('DROP TABLE settled_vouchers');
    await q.query(
      'ALTER TABLE disbursements DROP COLUMN budget_region_code, DROP COLUMN voucher_count, DROP COLUMN disbursed_by',
    );
    await q.query('DROP TABLE journal_lines');
    await q.query('DROP TABLE journal_entries');
    await q.query('DROP FUNCTION refuse_rewrite');
    await q.query('DROP FUNCTION journal_entry_balanced');
    await q.query('DROP TABLE ledger_accounts');
    await q.query('DROP TABLE subsidy_standards');
    await q.query('DROP TABLE review_rules');
    await q.query('DROP TABLE subsidy_application_lines');
    await q.query('DROP INDEX subsidy_applications_state');
    await q.query(`
      ALTER TABLE subsidy_applications
        DROP CONSTRAINT subsidy_applications_two_reviewers,
        DROP CONSTRAINT subsidy_applications_approved_amount,
        DROP COLUMN created_by, DROP COLUMN review_mode, DROP COLUMN anomaly_count, DROP COLUMN evaluated_at,
        DROP COLUMN standard_fen, DROP COLUMN first_reviewed_by, DROP COLUMN first_reviewed_at,
        DROP COLUMN final_reviewed_by, DROP COLUMN final_reviewed_at, DROP COLUMN rejected_by,
        DROP COLUMN rejected_at, DROP COLUMN rejection_reason, DROP COLUMN approved_amount_fen,
        DROP COLUMN approved_line_count, DROP COLUMN budget_region_code, DROP COLUMN updated_at`);
    for (const t of [
      'evidence_certificates',
      'evidence_enrollments',
      'evidence_vouchers',
      'evidence_operators',
      'evidence_institutions',
      'evidence_classes',
    ])
      await q.query(`DROP TABLE ${t}`);
  }
}
