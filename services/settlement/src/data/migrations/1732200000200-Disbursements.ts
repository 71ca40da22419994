import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Disbursements1732200000200 implements MigrationInterface {
  name = 'Disbursements1732200000200';

  async up(q: QueryRunner): Promise<void> {
    // One payment per application; a payment reference is never reused.
    await q.query(`
      CREATE TABLE disbursements (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL UNIQUE REFERENCES subsidy_applications (id),
        amount_fen bigint NOT NULL CHECK (amount_fen > 0),
        payment_reference text NOT NULL UNIQUE CHECK (length(payment_reference) BETWEEN 1 AND 100),
        paid_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE disbursements');
  }
}
