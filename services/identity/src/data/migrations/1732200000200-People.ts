import type { MigrationInterface, QueryRunner } from 'typeorm';

export class People1732200000200 implements MigrationInterface {
  name = 'People1732200000200';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE people (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL REFERENCES regions (code),
        card_issued_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE people');
  }
}
