import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Institutions1732200000100 implements MigrationInterface {
  name = 'Institutions1732200000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE institutions (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
        credit_code char(18) NOT NULL UNIQUE,
        region_code char(6) NOT NULL,
        address text NOT NULL,
        latitude double precision NOT NULL CHECK (latitude BETWEEN -90 AND 90),
        longitude double precision NOT NULL CHECK (longitude BETWEEN -180 AND 180),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE classes (
        id uuid PRIMARY KEY,
        institution_id uuid NOT NULL REFERENCES institutions (id),
        region_code char(6) NOT NULL,
        name text NOT NULL,
        occupation text NOT NULL,
        training_type text NOT NULL,
        level text,
        headcount integer NOT NULL CHECK (headcount > 0),
        start_date date NOT NULL,
        end_date date NOT NULL CHECK (end_date >= start_date),
        state text NOT NULL CHECK (state IN ('SUBMITTED', 'APPROVED', 'REJECTED')),
        roster_person_ids uuid[] NOT NULL DEFAULT '{}',
        approved_at timestamptz,
        approved_by text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX classes_institution ON classes (institution_id, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE classes');
    await q.query('DROP TABLE institutions');
  }
}
