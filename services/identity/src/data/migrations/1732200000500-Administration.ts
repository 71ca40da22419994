import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * HRSS administration (系统管理): departments (机构/科室) of a region's bureau, roles as named permission
 * sets, staff users bound to a region, a department and roles, machine clients for integrators, console
 * QR sign-in challenges, and the append-only audit log.
 */
export class Administration1732200000500 implements MigrationInterface {
  name = 'Administration1732200000500';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE departments (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL REFERENCES regions (code),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (region_code, name),
        UNIQUE (id, region_code)
      )`);

    // region_code NULL: a built-in system role, available everywhere.
    await q.query(`
      CREATE TABLE roles (
        id uuid PRIMARY KEY,
        region_code char(6) REFERENCES regions (code),
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
        description text NOT NULL DEFAULT '',
        permissions text[] NOT NULL DEFAULT '{}',
        system boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (system = (region_code IS NULL))
      )`);
    await q.query(`CREATE UNIQUE INDEX roles_region_name ON roles (coalesce(region_code, '000000'), name)`);
    await q.query(`
      INSERT INTO roles (id, region_code, name, description, permissions, system)
      VALUES ('00000000-0000-7000-8000-000000000001', NULL, '系统管理员',
              'Built-in: every permission, within the holder''s region subtree', '{}', true)`);

    await q.query(`
      CREATE TABLE staff_users (
        id uuid PRIMARY KEY,
        region_code char(6) NOT NULL REFERENCES regions (code),
        department_id uuid,
        name_enc bytea NOT NULL,
        id_number_enc bytea NOT NULL,
        phone_enc bytea,
        pii_key_id text NOT NULL,
        id_blind_index bytea NOT NULL UNIQUE,
        enabled boolean NOT NULL DEFAULT true,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        FOREIGN KEY (department_id, region_code) REFERENCES departments (id, region_code)
      )`);
    await q.query('CREATE INDEX staff_users_region ON staff_users (region_code, id)');
    await q.query('CREATE INDEX staff_users_pii_key ON staff_users (pii_key_id)');
    await q.query(`
      CREATE TABLE staff_user_roles (
        user_id uuid NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
        role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
        granted_by text,
        granted_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, role_id)
      )`);
    await q.query('CREATE INDEX staff_user_roles_role ON staff_user_roles (role_id, user_id)');

    await q.query(`
      CREATE TABLE clients (
        id uuid PRIMARY KEY,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        region_code char(6) NOT NULL REFERENCES regions (code),
        permissions text[] NOT NULL,
        secret_hash bytea NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        created_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        secret_rotated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX clients_region ON clients (region_code, id)');

    await q.query(`
      CREATE TABLE sign_in_challenges (
        id uuid PRIMARY KEY,
        secret_hash bytea NOT NULL,
        status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'CONFIRMED', 'EXCHANGED')),
        staff_user_id uuid REFERENCES staff_users (id),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        confirmed_at timestamptz,
        exchanged_at timestamptz,
        CHECK (status = 'PENDING' OR staff_user_id IS NOT NULL)
      )`);
    await q.query('CREATE INDEX sign_in_challenges_expiry ON sign_in_challenges (expires_at)');

    // Append-only: rows are inserted with the change they record and can never be changed or removed.
    await q.query(`
      CREATE TABLE audit_log (
        id uuid PRIMARY KEY,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        action text NOT NULL,
        actor_kind text NOT NULL,
        actor_id text,
        actor_region char(6),
        target_type text NOT NULL,
        target_id text,
        region_code char(6),
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        request_id text
      )`);
    await q.query('CREATE INDEX audit_log_region ON audit_log (region_code, id)');
    await q.query('CREATE INDEX audit_log_target ON audit_log (target_id, id)');
    await q.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await q.query(`
      CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await q.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE audit_log');
    await q.query('DROP FUNCTION audit_log_append_only');
    await q.query('DROP TABLE sign_in_challenges');
    await q.query('DROP TABLE clients');
    await q.query('DROP TABLE staff_user_roles');
    await q.query('DROP TABLE staff_users');
    await q.query('DROP TABLE roles');
    await q.query('DROP TABLE departments');
  }
}
