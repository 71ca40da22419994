import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Vouchers1732200000100 implements MigrationInterface {
  name = 'Vouchers1732200000100';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE vouchers (
        id uuid PRIMARY KEY,
        holder_person_id uuid NOT NULL,
        region_code char(6) NOT NULL,
        state text NOT NULL CHECK (state IN ('HELD', 'USED', 'SETTLED', 'EXPIRED', 'INVALIDATED')),
        face_value_fen integer CHECK (face_value_fen > 0),
        class_id uuid,
        issued_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX vouchers_holder ON vouchers (holder_person_id, id)');
    await q.query(`
      CREATE TABLE classes_awaiting_issuance (
        class_id uuid PRIMARY KEY,
        institution_id uuid NOT NULL,
        region_code char(6) NOT NULL,
        name text NOT NULL,
        occupation text NOT NULL,
        training_type text NOT NULL,
        headcount integer NOT NULL,
        roster_person_ids uuid[] NOT NULL,
        start_date date NOT NULL,
        end_date date NOT NULL,
        approved_at timestamptz NOT NULL,
        issued_at timestamptz
      )`);
    await q.query(
      'CREATE INDEX classes_awaiting_region ON classes_awaiting_issuance (region_code bpchar_pattern_ops, class_id) WHERE issued_at IS NULL',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE classes_awaiting_issuance');
    await q.query('DROP TABLE vouchers');
  }
}
