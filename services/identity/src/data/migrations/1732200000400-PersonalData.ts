import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * People's personal data (encrypted, with a keyed blind index), their e-SSC record, PINs and
 * face-verification challenges. No column holds an ID number, name or phone in the clear.
 */
export class PersonalData1732200000400 implements MigrationInterface {
  name = 'PersonalData1732200000400';

  async up(q: QueryRunner): Promise<void> {
    // The foundation's people table held only id and region; a person now always has their data.
    await q.query(`
      ALTER TABLE people
        ADD COLUMN id_number_enc bytea NOT NULL,
        ADD COLUMN name_enc bytea NOT NULL,
        ADD COLUMN phone_enc bytea NOT NULL,
        ADD COLUMN pii_key_id text NOT NULL,
        ADD COLUMN id_blind_index bytea NOT NULL,
        ADD COLUMN birth_year smallint NOT NULL CHECK (birth_year BETWEEN 1900 AND 2200)`);
    await q.query('CREATE UNIQUE INDEX people_id_blind_index ON people (id_blind_index)');
    await q.query('CREATE INDEX people_region ON people (region_code, id)');
    await q.query('CREATE INDEX people_pii_key ON people (pii_key_id)');

    await q.query(`
      CREATE TABLE social_security_cards (
        id uuid PRIMARY KEY,
        person_id uuid NOT NULL UNIQUE REFERENCES people (id),
        region_code char(6) NOT NULL REFERENCES regions (code),
        status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED')),
        channel text NOT NULL CHECK (channel IN ('SELF_SERVICE', 'STAFF', 'CLIENT')),
        issued_by text,
        issued_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE pin_credentials (
        person_id uuid PRIMARY KEY REFERENCES people (id),
        hash bytea NOT NULL,
        salt bytea NOT NULL,
        params text NOT NULL,
        failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
        locked_until timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE face_challenges (
        nonce text PRIMARY KEY,
        person_id uuid NOT NULL REFERENCES people (id),
        purpose text NOT NULL CHECK (purpose IN ('CLAIM_VOUCHER', 'USE_VOUCHER')),
        subject text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at timestamptz
      )`);
    await q.query('CREATE INDEX face_challenges_expiry ON face_challenges (expires_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE face_challenges');
    await q.query('DROP TABLE pin_credentials');
    await q.query('DROP TABLE social_security_cards');
    await q.query(`
      ALTER TABLE people DROP COLUMN id_number_enc, DROP COLUMN name_enc, DROP COLUMN phone_enc,
        DROP COLUMN pii_key_id, DROP COLUMN id_blind_index, DROP COLUMN birth_year`);
  }
}
