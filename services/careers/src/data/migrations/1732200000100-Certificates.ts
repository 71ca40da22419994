import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Certificates1732200000100 implements MigrationInterface {
  name = 'Certificates1732200000100';

  async up(q: QueryRunner): Promise<void> {
    // holder_person_id names a person owned by the identity subgraph: no foreign key across databases.
    await q.query(`
      CREATE TABLE certificates (
        id uuid PRIMARY KEY,
        holder_person_id uuid NOT NULL,
        region_code char(6) NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
        kind text NOT NULL CHECK (kind IN ('TRAINING', 'VOCATIONAL_QUALIFICATION', 'SKILL_LEVEL')),
        occupation text NOT NULL CHECK (length(occupation) BETWEEN 1 AND 100),
        level text CHECK (level IN ('LEVEL_5', 'LEVEL_4', 'LEVEL_3', 'LEVEL_2', 'LEVEL_1')),
        issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 200),
        number text NOT NULL CHECK (length(number) BETWEEN 1 AND 100),
        issued_on date NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT certificates_issuer_number_key UNIQUE (issuer, number)
      )`);
    await q.query('CREATE INDEX certificates_holder ON certificates (holder_person_id, id)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE certificates');
  }
}
