import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CertificateImports1732200000300 implements MigrationInterface {
  name = 'CertificateImports1732200000300';

  async up(q: QueryRunner): Promise<void> {
    // Where a certificate came from and which integrator (client id) or staff member imported it.
    await q.query(`
      ALTER TABLE certificates
        ADD COLUMN source text NOT NULL DEFAULT 'GRAPH' CHECK (source IN ('GRAPH', 'EVENT')),
        ADD COLUMN imported_by text,
        ADD COLUMN import_event_id text`);
    await q.query(`
      ALTER TABLE certificates ADD CONSTRAINT certificates_skill_level_has_level
        CHECK (kind <> 'SKILL_LEVEL' OR level IS NOT NULL) NOT VALID`);
    await q.query('CREATE INDEX certificates_region ON certificates (region_code bpchar_pattern_ops, id)');
    // Imports from events that were refused (invalid content, or a conflicting duplicate). Operators
    // read these; the integrator is told through its own channel. No names or ID numbers.
    await q.query(`
      CREATE TABLE certificate_import_rejections (
        id uuid PRIMARY KEY,
        event_id text NOT NULL,
        integrator_id text,
        import_id text,
        issuer text,
        number text,
        code text NOT NULL,
        reason text NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      'CREATE INDEX certificate_import_rejections_received ON certificate_import_rejections (received_at)',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE certificate_import_rejections');
    await q.query('DROP INDEX certificates_region');
    await q.query('ALTER TABLE certificates DROP CONSTRAINT certificates_skill_level_has_level');
    await q.query(
      'ALTER TABLE certificates DROP COLUMN source, DROP COLUMN imported_by, DROP COLUMN import_event_id',
    );
  }
}
