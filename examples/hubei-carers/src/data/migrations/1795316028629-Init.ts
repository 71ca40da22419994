import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795316028629 implements MigrationInterface {
  name = 'Init1795316028629';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE programme_classes (
        class_id uuid PRIMARY KEY,
        care_type text NOT NULL CHECK (care_type IN ('ELDERLY', 'MATERNAL', 'MEDICAL')),
        top_up_fen integer NOT NULL CHECK (top_up_fen BETWEEN 0 AND 1000000),
        designated_by text NOT NULL,
        designated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE carers (
        person_id uuid PRIMARY KEY,
        care_types text[] NOT NULL,
        certified_at timestamptz,
        registered_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE carers');
    await q.query('DROP TABLE programme_classes');
  }
}
