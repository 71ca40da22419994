import type { MigrationInterface, QueryRunner } from 'typeorm';

export class JobPostings1732200000200 implements MigrationInterface {
  name = 'JobPostings1732200000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE job_postings (
        id uuid PRIMARY KEY,
        title text NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
        employer text NOT NULL CHECK (length(employer) BETWEEN 1 AND 100),
        occupation text NOT NULL CHECK (length(occupation) BETWEEN 1 AND 100),
        required_certificate_kind text CHECK (required_certificate_kind IN ('TRAINING', 'VOCATIONAL_QUALIFICATION', 'SKILL_LEVEL')),
        required_level text CHECK (required_level IN ('LEVEL_5', 'LEVEL_4', 'LEVEL_3', 'LEVEL_2', 'LEVEL_1')),
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        pay_min_fen bigint NOT NULL CHECK (pay_min_fen >= 0),
        pay_max_fen bigint NOT NULL,
        valid_until date NOT NULL,
        published_by text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (pay_max_fen >= pay_min_fen)
      )`);
    // The public search: still-open postings, optionally within a region subtree, in id order.
    await q.query('CREATE INDEX job_postings_open ON job_postings (valid_until, id)');
    await q.query('CREATE INDEX job_postings_region ON job_postings (region_code bpchar_pattern_ops, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE job_postings');
  }
}
