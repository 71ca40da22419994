import type { MigrationInterface, QueryRunner } from 'typeorm';

export class SubsidyApplications1732200000100 implements MigrationInterface {
  name = 'SubsidyApplications1732200000100';

  async up(q: QueryRunner): Promise<void> {
    // institution_id and class_id name entities owned by the training subgraph: no foreign keys across databases.
    await q.query(`
      CREATE TABLE subsidy_applications (
        id uuid PRIMARY KEY,
        institution_id uuid NOT NULL,
        class_id uuid NOT NULL,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        state text NOT NULL DEFAULT 'DRAFT'
          CHECK (state IN ('DRAFT', 'SUBMITTED', 'FIRST_APPROVED', 'APPROVED', 'REJECTED', 'PAID')),
        total_amount_fen bigint NOT NULL DEFAULT 0 CHECK (total_amount_fen >= 0),
        line_count integer NOT NULL DEFAULT 0 CHECK (line_count >= 0),
        submitted_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (state = 'DRAFT' OR submitted_at IS NOT NULL)
      )`);
    await q.query('CREATE INDEX subsidy_applications_class ON subsidy_applications (class_id, id)');
    await q.query(
      'CREATE INDEX subsidy_applications_institution ON subsidy_applications (institution_id, id)',
    );
    await q.query('CREATE INDEX subsidy_applications_region ON subsidy_applications (region_code)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE subsidy_applications');
  }
}
